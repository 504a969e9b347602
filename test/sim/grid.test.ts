// The whole protocol on a simulated network: staleness bound, replica agreement, relay fallback, loss, departures.
import { afterEach, describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import type { Backend } from '../../client/train/session.ts'
import { evaluate } from '../../model/network.ts'
import { maxAbsDiff } from '../../model/params.ts'
import { startNodeGrid, until, type NodeGrid } from './node-grid.ts'

let grid: NodeGrid | undefined
afterEach(async () => {
  await grid?.close()
  grid = undefined
})

/** 784→32→10 at B=8 on up to 4 workers: the hidden kernel travels as factors, the rest through the server. */
const small = { data: 'builtin', model: 'mlp:32', trainLimit: 600 } as const

/** True for the first link that tries to open, false for every other. */
function firstOnly() {
  let n = 0
  return () => n++ === 0
}

/** Waits for the job, then reads the model of every worker that saw it to the end (`gone` ones ended early). */
async function finish(g: NodeGrid, gone: number[] = []) {
  await until(() => g.job.state === 'done', 60_000, 'job done')
  await Promise.all(g.runs)
  return Promise.all(g.workers.filter((_, i) => !gone.includes(i)).map((w) => w.readModel()))
}

describe('a grid of Node workers on a simulated network', { timeout: 90_000 }, () => {
  it.each([0, 1, 4])('keeps the staleness bound s=%i and ends with every replica equal to the coordinator’s', async (s) => {
    grid = await startNodeGrid(4, { staleness: s, batch: 8, shardSize: 50, epochs: 1 }, small, { seed: s + 1, latencyMs: [0, 8] })
    const models = await finish(grid)
    const { job } = grid
    expect(job.ssp.maxObservedStaleness).toBeLessThanOrEqual(s)
    expect(job.ledger.report()[0]).toMatchObject({ processed: 12, missing: [] })
    // every link opened, so updates went direct; the relay carries at most a resend a slow machine asked for
    for (const w of grid.workers) expect(Object.values(w.status.peers)).toEqual(['p2p', 'p2p', 'p2p'])
    expect(job.traffic.p2p).toBeGreaterThan(0)
    expect(job.traffic.relay).toBeLessThan(0.02 * job.traffic.p2p)
    for (const m of models) expect(maxAbsDiff(m, job.replica.params)).toBeLessThan(1e-5)
    await job.settled()
    expect(job.curve.last!.testAccuracy).toBeGreaterThan(job.curve.points[0].testAccuracy)
    // while all four trained, the hidden kernel went as factors and the rest through the server
    expect(job.comm.paths).toEqual(['sf', 'ps', 'ps', 'ps'])
  })

  it('sends through the relay where a link cannot open, and says so', async () => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1, linkTimeoutMs: 300 }, small, { blockLink: firstOnly() })
    const models = await finish(grid)
    const { job } = grid
    expect(job.traffic.relay).toBeGreaterThan(0)
    expect(job.traffic.p2p).toBeGreaterThan(0)
    const states = grid.workers.map((w) => Object.values(w.status.peers).sort())
    expect(states.filter((s) => s.includes('relay'))).toHaveLength(2)
    for (const m of models) expect(maxAbsDiff(m, job.replica.params)).toBeLessThan(1e-5)
  })

  it('recovers updates lost on a link through the coordinator', async () => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1 }, small, { dropChunk: (from, seq) => from === 0 && [3, 40, 80].includes(seq) })
    const models = await finish(grid)
    expect(grid.net.dropped).toBeGreaterThan(0)
    expect(grid.workers.reduce((n, w) => n + w.status.resends, 0)).toBeGreaterThan(0)
    for (const m of models) expect(maxAbsDiff(m, grid.job.replica.params)).toBeLessThan(1e-5)
  })

  it('partial broadcast: with fan-out Q=1 each update goes direct to one peer, the relay carries it to the rest', async () => {
    grid = await startNodeGrid(4, { staleness: 1, batch: 8, shardSize: 50, epochs: 1, fanout: 1 }, small)
    const models = await finish(grid)
    const { job } = grid
    // each update's factors went to the coordinator and one peer; the other two got them through the relay
    const b = job.samples * (32 + 784) * 4
    const kernel = job.traffic.tensors(job.comm.paths)[0]
    expect(kernel.sent).toBeLessThanOrEqual(2 * b)
    expect(kernel.sent).toBeGreaterThan(1.8 * b)
    expect(kernel.received).toBeGreaterThan(2.9 * b)
    expect(kernel.received).toBeLessThan(3.25 * b) // a few resends a worker asked for while a confirm was on its way
    expect(job.traffic.relay).toBeGreaterThan(1.6 * (job.traffic.p2p))
    for (const m of models) expect(maxAbsDiff(m, job.replica.params)).toBeLessThan(1e-5)
  })

  it('evicts a worker that stalls, gives its shard to the others, and finishes', async () => {
    const hangAfter = (i: number): Backend => ({
      kind: 'cpu',
      create(plan) {
        const e = createCpuEngine(plan)
        if (i !== 0) return e
        let steps = 0
        const step = e.step.bind(e)
        e.step = (...a) => (++steps > 10 ? new Promise<never>(() => {}) : step(...a)) // a tab frozen mid-shard
        return e
      },
    })
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1, stallTimeoutMs: 1000 }, small, {}, hangAfter)
    const g = grid
    await until(() => g.job.state === 'done', 60_000, 'job done')
    expect(g.workers[0].status.error).toMatch(/ERR_STALLED/)
    // its shard, and the next one it was granted ahead while it trained
    expect([...new Set(g.job.returned.map((r) => r.worker))]).toEqual([g.workers[0].status.workerId])
    expect(g.job.returned.length).toBeGreaterThanOrEqual(1)
    expect(g.job.returned.length).toBeLessThanOrEqual(2)
    expect(g.job.ledger.report()[0]).toMatchObject({ processed: 12, missing: [] })
    await Promise.all(g.runs.slice(1)) // the others end once they hold every update the coordinator has
    const models = await Promise.all([1, 2].map((i) => g.workers[i].readModel()))
    for (const m of models) expect(maxAbsDiff(m, g.job.replica.params)).toBeLessThan(1e-5)
  })

  it('a worker whose connection drops stops with ERR_DISCONNECTED; the others finish its shard', async () => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 1 }, small)
    const g = grid
    await until(() => g.job.ledger.processed >= 2, 30_000, 'two shards')
    const victim = g.workers[1]
    const socket = (victim as unknown as { deps: { link: { socket: { io: { engine: { close(): void } } } } } }).deps.link.socket
    socket.io.engine.close()
    await expect(g.runs[1]).rejects.toMatchObject({ code: 'ERR_DISCONNECTED' })
    expect(victim.status.phase).toBe('error')
    await until(() => g.job.state === 'done', 60_000, 'job done')
    expect(g.job.ledger.report()[0]).toMatchObject({ processed: 12, missing: [] })
    g.runs[1] = Promise.resolve()
    await expect(victim.readModel()).rejects.toMatchObject({ code: 'ERR_JOB_CLOSED' })
    const models = await finish(g, [1])
    for (const m of models) expect(maxAbsDiff(m, g.job.replica.params)).toBeLessThan(1e-5)
  })

  it('finishes every shard when a worker leaves mid-job, and a joiner starts from the current model', async () => {
    grid = await startNodeGrid(3, { staleness: 2, batch: 8, shardSize: 50, epochs: 2, lr: 0.15 }, { ...small, trainLimit: 1200 })
    const g = grid
    await until(() => g.job.ledger.processed >= 3, 30_000, 'three shards')
    g.workers[0].leave()
    await until(() => g.job.readyCount() === 2, 5_000, 'departure noticed')
    await until(() => g.job.curve.points.length > 0, 10_000, 'the first evaluation')
    const initial = g.job.curve.points[0].testLoss
    await until(() => g.job.ledger.processed >= 20, 30_000, 'most of the first epoch')
    const now = evaluate(g.job.plan, g.job.replica.params, g.job.data.test.x, g.job.data.test.y, g.job.data.test.n).loss
    expect(now).toBeLessThan(0.5 * initial)
    const late = g.add()
    await until(() => late.status.firstLoss !== null, 30_000, 'joiner trains')
    const models = await finish(g, [0])
    for (const e of g.job.ledger.report()) expect(e).toMatchObject({ processed: 24, missing: [] })
    expect(late.status.firstLoss).toBeLessThan(0.6 * initial)
    for (const m of models) expect(maxAbsDiff(m, g.job.replica.params)).toBeLessThan(1e-5)
  })

  it('a joiner holds nobody back before its first update, which counts at the min clock it finds; replicas agree', async () => {
    let minAtStart = -1
    let minAtEnd = -1
    const slowFirst = (i: number): Backend => ({
      kind: 'cpu',
      create(plan) {
        const e = createCpuEngine(plan)
        if (i !== 3) return e
        const step = e.step.bind(e)
        let first = true
        e.step = async (...a) => {
          if (!first) return step(...a)
          first = false
          minAtStart = grid!.job.ssp.min
          await new Promise((r) => setTimeout(r, 600)) // a tab that takes its time over its first batch
          minAtEnd = grid!.job.ssp.min
          return step(...a)
        }
        return e
      },
    })
    grid = await startNodeGrid(3, { staleness: 0, batch: 8, shardSize: 50, epochs: 2 }, { ...small, trainLimit: 1200 }, {}, slowFirst)
    const g = grid
    await until(() => g.job.ledger.processed >= 3, 30_000, 'three shards')
    const late = g.add()
    await until(() => late.status.lastUpdateClock >= 0, 30_000, 'the joiner’s first update')
    // BSP, yet the three went on while the joiner computed, and its update counted where they were
    expect(minAtEnd).toBeGreaterThan(minAtStart + 5)
    expect(g.job.ssp.rebased).toBe(1)
    expect(late.status.lastUpdateClock).toBeGreaterThanOrEqual(minAtEnd)
    const models = await finish(g)
    expect(g.job.ssp.maxObservedStaleness).toBe(0)
    for (const e of g.job.ledger.report()) expect(e).toMatchObject({ processed: 24, missing: [] })
    expect(models).toHaveLength(4)
    for (const m of models) expect(maxAbsDiff(m, g.job.replica.params)).toBeLessThan(1e-5)
  })
})
