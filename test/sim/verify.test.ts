// Spot re-computation on the simulated grid: every honest update re-computed matches; lies within every bound do not.
import { afterEach, describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import type { Backend } from '../../client/train/session.ts'
import { maxAbsDiff } from '../../model/params.ts'
import { lyingBackend, zero, type Lie } from './hostile.ts'
import { startNodeGrid, until, type NodeGrid } from './node-grid.ts'

let grid: NodeGrid | undefined
afterEach(async () => {
  await grid?.close()
  grid = undefined
})

/** Worker 0 sends `lie(parts)` instead of its step; the others are honest. */
function lying(lie: Lie) {
  return (i: number): Backend => (i === 0 ? lyingBackend(lie) : { kind: 'cpu', create: createCpuEngine })
}

describe('spot re-computation', { timeout: 90_000 }, () => {
  it.each([0, 1, 4])('re-computes every update at s=%i from the view its worker stated: all match', async (s) => {
    grid = await startNodeGrid(4, { staleness: s, batch: 8, shardSize: 50, epochs: 1, verifyRate: 1 }, { data: 'builtin', model: 'mlp:32', trainLimit: 600 }, { seed: 5, latencyMs: [0, 8] })
    const g = grid
    await until(() => g.job.state === 'done', 60_000, 'job done')
    expect(g.job.verifier.checked).toBeGreaterThanOrEqual(g.job.samples / 8)
    expect(g.job.verifier.failed).toBe(0)
    expect(g.job.defence.snapshot().quarantines).toBe(0)
  })

  it.each([
    ['free-riding on an all-server model (every part zero)', 'mlr', zero],
    // the hidden bias has no exact structure: ×1.1 passes every check but re-computation
    ['a little is enough (hidden bias ×1.1, inside every bound)', 'mlp:32', ((p) => p.map((q) => (q.tensor === 1 ? { ...q, floats: q.floats.map((v) => v * 1.1) } : q))) as Lie],
  ] as Array<[string, string, Lie]>)('%s is caught, quarantined, and the job finishes without it', async (_, model, lie) => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1, verifyRate: 1 }, { data: 'builtin', model, trainLimit: 600 }, {}, lying(lie))
    const g = grid
    const ended = g.runs[0].then(() => null, (e: unknown) => e) // handled at once: the liar's run ends in an error
    await until(() => g.job.state === 'done', 60_000, 'job done')
    expect(await ended).toMatchObject({ code: 'ERR_QUARANTINED' })
    expect(g.workers[0].status.error).toMatch(/re-computed from the view it stated/)
    expect(g.job.defence.snapshot()).toMatchObject({ quarantines: 1, recent: [{ worker: g.workers[0].status.workerId }] })
    expect(g.job.ledger.report()[0]).toMatchObject({ processed: 12, missing: [] })
    await Promise.all(g.runs.slice(1))
    expect(g.workers.slice(1).map((w) => w.status.error)).toEqual([undefined, undefined])
  })

  it('a liar caught at a sampled rate: its accepted lies are taken back on every replica, which all still agree', async () => {
    // honest for 6 updates (newcomers are checked closely), then the hidden bias ×1.1 on every update
    let n = 0
    const later: Lie = (p) => (n++ < 6 ? [...p] : p.map((q) => (q.tensor === 1 ? { ...q, floats: q.floats.map((v) => v * 1.1) } : q)))
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1, verifyRate: 0.2 }, { data: 'builtin', model: 'mlp:32', trainLimit: 600 }, { seed: 3 }, lying(later))
    const g = grid
    const ended = g.runs[0].then(() => null, (e: unknown) => e)
    await until(() => g.job.state === 'done', 60_000, 'job done')
    expect(await ended).toMatchObject({ code: 'ERR_QUARANTINED' })
    const d = g.job.defence.snapshot()
    expect(d.quarantines).toBe(1)
    // the sampling is secret, so how many lies went through before one was checked varies: every one of them is
    // taken back (no lie can be verified), and no more than the updates since its last verified honest one
    const accepted = g.job.clocksByWorker.get(g.workers[0].status.workerId) ?? 0
    expect(d.undone.updates).toBeGreaterThanOrEqual(accepted - 6)
    expect(d.undone.updates).toBeLessThanOrEqual(accepted)
    await Promise.all(g.runs.slice(1))
    expect(g.workers.slice(1).map((w) => w.status.corrections)).toEqual(d.undone.updates ? [1, 1] : [0, 0])
    for (const w of g.workers.slice(1)) expect(maxAbsDiff(await w.readModel(), g.job.replica.params)).toBeLessThan(1e-5)
    expect(g.job.ledger.report()[0]).toMatchObject({ processed: 12, missing: [] })
  })
})
