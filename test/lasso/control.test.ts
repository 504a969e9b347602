// A Lasso job under an operator's pause, resume and cancel, and a volunteer's pause: it still reaches the reference.
import { describe, expect, it } from 'vitest'
import { correlatedData } from '../../apps/lasso/data.ts'
import { objective } from '../../apps/lasso/objective.ts'
import { sequentialLasso } from '../../apps/lasso/reference.ts'
import { CoreGrid } from '../helpers/lasso-core.ts'

const data = correlatedData({ n: 100, p: 120, seed: 5 })

describe('Lasso controls', () => {
  it('a paused job issues no rounds; resumed, it converges to the reference', async () => {
    const g = new CoreGrid(data, { blockColumns: 20 })
    await g.join()
    await g.join()
    g.run(() => g.job.completed >= 20)
    expect(g.job.control('pause')).toBeNull()
    expect(g.job.summary()).toMatchObject({ state: 'paused', reason: 'paused by the operator' })
    // the rounds in flight complete, then nothing more goes out
    g.run(() => false)
    const held = g.job.completed
    g.run(() => false)
    expect(g.job.completed).toBe(held)
    expect([...g.workers.values()].every((w) => w.queue.length === 0)).toBe(true)
    expect(g.job.control('resume')).toBeNull()
    g.run(() => g.job.state === 'done')
    expect(g.job.stop).toBe('converged')
    const ref = sequentialLasso(data, g.job.info.lambda, { tolerance: 1e-12, maxSweeps: 5000 })
    expect(Math.abs(objective(data, g.job.beta, g.job.info.lambda) - ref.objective) / ref.objective).toBeLessThan(1e-4)
  })

  it("a volunteer's pause gives its blocks to the others; resumed, it gets a share back", async () => {
    const g = new CoreGrid(data, { blockColumns: 20 })
    const [a, b] = [await g.join(), await g.join()]
    g.run(() => g.job.completed >= 5)
    expect(g.job.blocks.of(a.id).length).toBe(3)
    expect(g.job.pause(a.id, { type: 'pause', paused: true })).toEqual({ ok: true, returned: 3 })
    expect(g.job.blocks.of(a.id)).toEqual([])
    expect(g.job.blocks.of(b.id)).toHaveLength(6)
    g.run(() => g.job.completed >= 40)
    // every task since went to b (a answers what it had, then idles)
    const aRounds = g.job.detail().workersList.find((w) => w.id === a.id)!.rounds
    g.run(() => g.job.completed >= 80)
    expect(g.job.detail().workersList.find((w) => w.id === a.id)).toMatchObject({ rounds: aRounds, paused: true })
    expect(g.job.pause(a.id, { type: 'pause', paused: false })).toEqual({ ok: true, returned: 0 })
    expect(g.job.blocks.of(a.id).length).toBe(3)
    g.run(() => g.job.state === 'done')
    expect(g.job.stop).toBe('converged')
    expect(a.refusals).toEqual([])
  })

  it('cancel ends the job failed, keeps β, and the workers hear why; a departed worker is kept with its work', async () => {
    const g = new CoreGrid(data, { blockColumns: 20 })
    const [a] = [await g.join(), await g.join()]
    g.run(() => g.job.completed >= 10)
    const updates = g.job.detail().workersList.find((w) => w.id === a.id)!.updates
    g.leave(a)
    expect(g.job.detail().departed).toMatchObject([{ id: a.id, why: 'left', samples: updates }])
    const beta = Float64Array.from(g.job.beta)
    expect(g.job.control('cancel')).toBeNull()
    expect(g.job.summary()).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
    const b = [...g.workers.values()][0]
    expect(b.queue.some((e) => e.event === 'job' && e.msg.state === 'failed' && e.msg.reason === 'cancelled by the operator')).toBe(true)
    g.run(() => false)
    expect(g.job.beta).toEqual(beta)
    expect(g.job.control('resume')).toMatchObject({ code: 'ERR_JOB_CLOSED' })
  })
})
