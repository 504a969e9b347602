// The Lasso job core (coordinator/core/lasso-job.ts) with in-process workers: it converges to the sequential
// reference, keeps r = y − Xβ when workers leave, holds the staleness bound, and refuses bad input with codes.
import { describe, expect, it } from 'vitest'
import { correlatedData } from '../../apps/lasso/data.ts'
import { objective, residual } from '../../apps/lasso/objective.ts'
import { sequentialLasso } from '../../apps/lasso/reference.ts'
import { CoreGrid } from '../helpers/lasso-core.ts'

const data = correlatedData({ n: 200, p: 400, seed: 3 })

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]))
  return m
}

describe('Lasso job core', () => {
  const grid0 = new CoreGrid(data, {})
  const reference = sequentialLasso(data, grid0.job.info.lambda, { tolerance: 1e-12, maxSweeps: 5000 })

  for (const scheduler of ['sap', 'sequential'] as const) {
    it(`${scheduler}: 3 workers converge to the sequential objective within 1e-4, r = y − Xβ throughout`, async () => {
      const g = new CoreGrid(data, { scheduler, blockColumns: 50 })
      const ws = [await g.join(), await g.join(), await g.join()]
      g.run(() => g.job.state === 'done')
      expect(g.job.state).toBe('done')
      expect(g.job.stop).toBe('converged')
      g.run(() => false) // the workers take their last events
      const exact = objective(data, g.job.beta, g.job.info.lambda)
      expect(Math.abs(exact - reference.objective) / reference.objective).toBeLessThan(1e-4)
      // the core's running objective and residual agree with recomputing them from β
      expect(Math.abs(g.job.objective - exact) / exact).toBeLessThan(1e-9)
      expect(maxDiff(g.job.r, residual(data, g.job.beta))).toBeLessThan(1e-9)
      for (const w of ws) expect(w.refusals).toEqual([])
      // blocks were spread 3/3/2 over 8 blocks, and every worker answered tasks
      const held = ws.map((w) => w.cols.size).sort()
      expect(held).toEqual([2, 3, 3])
      for (const m of g.job.detail().workersList) expect(m.rounds).toBeGreaterThan(0)
      for (const w of ws) expect(w.done).toBe(true)
    })
  }

  it('holds the staleness bound: every task is computed on a residual at most s rounds old', async () => {
    const g = new CoreGrid(data, { staleness: 2, blockColumns: 100 })
    const ws = [await g.join(), await g.join()]
    let worst = 0
    for (const w of ws) {
      const step = w.step.bind(w)
      w.step = () => {
        const e = w.queue[0]
        if (e?.event === 'lasso-task') worst = Math.max(worst, e.msg.round - w.view)
        return step()
      }
    }
    g.run(() => g.job.completed >= 300)
    expect(g.job.completed).toBeGreaterThanOrEqual(300)
    // round t needs the residual of t − s − 1: a lag of s + 1 at most, and the pipeline does fill up to it
    expect(worst).toBe(3)
  })

  it('a worker that leaves mid-run loses nothing: its blocks go to the others, r stays y − Xβ, the job converges', async () => {
    const g = new CoreGrid(data, { blockColumns: 50 })
    const [a, b, c] = [await g.join(), await g.join(), await g.join()]
    g.run(() => g.job.completed >= 40)
    const before = g.job.completed
    g.leave(b) // with its tasks unanswered
    expect(maxDiff(g.job.r, residual(data, g.job.beta))).toBeLessThan(1e-9)
    g.run(() => g.job.state === 'done')
    expect(g.job.completed).toBeGreaterThan(before)
    expect(a.cols.size + c.cols.size).toBe(8)
    expect(g.job.blocks.of(b.id)).toEqual([])
    const exact = objective(data, g.job.beta, g.job.info.lambda)
    expect(Math.abs(exact - reference.objective) / reference.objective).toBeLessThan(1e-4)
    expect(maxDiff(g.job.r, residual(data, g.job.beta))).toBeLessThan(1e-9)
  })

  it('refuses bad input with coded errors and changes nothing', async () => {
    const g = new CoreGrid(data, { blockColumns: 100, verifyRate: 0 })
    const w = await g.join()
    const other = await g.join()
    // take the blocks, then stop before the first task is answered
    g.run(() => w.queue[0]?.event === 'lasso-task')
    const task = w.queue[0].msg as { round: number; picks: Uint8Array }
    const picks = task.picks.byteLength / 4
    const state = () => ({ beta: g.job.beta.slice(), r: g.job.r.slice(), completed: g.job.completed, updates: g.job.updates })
    const before = state()
    const deltas = (v: number[]) => new Uint8Array(Float32Array.from(v).buffer)
    const zeros = deltas(new Array(picks).fill(0))
    const code = (r: { ok: boolean }) => (r.ok ? 'ok' : (r as unknown as { code: string }).code)
    const result = (m: { round: number; view: number; deltas: Uint8Array }, who = w.id) => code(g.job.result(who, { type: 'lasso-result', ...m }))
    const view = w.view
    expect(result({ round: task.round + 50, view, deltas: zeros })).toBe('ERR_NOT_SCHEDULED')
    // the round exists, but its task is the other worker's (or it has none)
    const otherHasTask = other.queue.some((e) => e.event === 'lasso-task' && e.msg.round === task.round)
    if (!otherHasTask) expect(result({ round: task.round, view, deltas: zeros }, other.id)).toBe('ERR_NOT_SCHEDULED')
    expect(result({ round: task.round, view, deltas: deltas([1, 2].concat(new Array(picks).fill(0))) })).toBe('ERR_BAD_SHAPE')
    expect(result({ round: task.round, view, deltas: deltas([NaN].concat(new Array(picks - 1).fill(0))) })).toBe('ERR_NOT_FINITE')
    expect(result({ round: task.round, view: g.job.completed + 1, deltas: zeros })).toBe('ERR_CLOCK')
    expect(code(g.job.hold(w.id, { type: 'lasso-hold', blocks: g.job.blocks.of(other.id) }))).toBe('ERR_LEASE')
    expect(code(g.job.hold(w.id, { type: 'lasso-hold', blocks: [99] }))).toBe('ERR_LEASE')
    expect(state()).toEqual(before)
    expect(g.job.defence.snapshot().quarantines).toBe(0)
    // a coordinate moved further than any step allows: refused, the sender quarantined, its tasks dropped
    expect(result({ round: task.round, view, deltas: deltas([1e6].concat(new Array(picks - 1).fill(0))) })).toBe('ERR_BAD_UPDATE')
    expect(w.evicted?.code).toBe('ERR_QUARANTINED')
    expect(g.job.members.has(w.id)).toBe(false)
    expect(g.job.beta).toEqual(before.beta)
    expect(g.job.defence.snapshot().quarantines).toBe(1)
    // the honest worker takes every block and finishes the job
    g.workers.delete(w.id)
    g.run(() => g.job.state === 'done')
    expect(g.job.stop).toBe('converged')
    expect(other.cols.size).toBe(4)
  })

  it('re-computes a sampled share of results: a subtly wrong Δβ quarantines its sender, and the job still converges', async () => {
    const g = new CoreGrid(data, { blockColumns: 100, verifyRate: 1 })
    const honest = await g.join()
    const liar = await g.join()
    liar.lie = (d) => d.map((v) => v * 1.5 + 0.01)
    g.run(() => liar.evicted !== null)
    expect(liar.evicted?.code).toBe('ERR_QUARANTINED')
    expect(liar.refusals.map((r) => r.code)).toEqual(['ERR_BAD_UPDATE'])
    expect(g.job.detail().defence.verified).toBeGreaterThan(0)
    g.workers.delete(liar.id)
    g.run(() => g.job.state === 'done')
    expect(honest.refusals).toEqual([])
    const exact = objective(data, g.job.beta, g.job.info.lambda)
    expect(Math.abs(exact - reference.objective) / reference.objective).toBeLessThan(1e-4)
  })
})
