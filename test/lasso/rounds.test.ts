// Parallel rounds: SAP converges to sequential coordinate descent's optimum in fewer rounds; Shotgun stumbles on
// correlated blocks.
import { describe, expect, it } from 'vitest'
import { runRounds } from '../../apps/lasso/rounds.ts'
import { makeScheduler, type Scheduler } from '../../apps/lasso/scheduler.ts'
import { column, type RegressionData } from '../../apps/lasso/types.ts'
import { gaussian, mulberry32 } from '../../model/random.ts'
import { blockColumns } from '../helpers/lasso-blocks.ts'

/**
 * Blocks of `block` columns sharing a factor (pairwise correlation ≈ rho), centred and unit-norm; y from one column
 * of each of the first `active` blocks, plus noise.
 */
function blockData(n: number, p: number, block: number, rho: number, active: number, seed: number): RegressionData {
  const rand = mulberry32(seed)
  const x = blockColumns(n, p, block, rho, rand)
  const y = new Float32Array(n)
  for (let b = 0; b < active; b++) {
    const j = b * block + (b % block)
    const w = (b % 2 ? -1 : 1) * (2 + b)
    for (let i = 0; i < n; i++) y[i] += w * x[j * n + i]
  }
  let mean = 0
  for (let i = 0; i < n; i++) mean += y[i] += 0.3 * gaussian(rand)
  for (let i = 0; i < n; i++) y[i] -= mean / n
  return { name: 'blocks', n, p, x, y }
}

/** ½‖y − Xβ‖² + λ‖β‖₁ at the optimum, by plain cyclic coordinate descent until no coordinate moves by 1e-12. */
function sequentialOptimum(d: RegressionData, lambda: number): number {
  const beta = new Float64Array(d.p)
  const r = Float64Array.from(d.y)
  for (let moved = 1; moved > 1e-12; ) {
    moved = 0
    for (let j = 0; j < d.p; j++) {
      const xj = column(d, j)
      let g = beta[j]
      for (let i = 0; i < d.n; i++) g += xj[i] * r[i]
      const next = Math.sign(g) * Math.max(Math.abs(g) - lambda, 0)
      const delta = next - beta[j]
      if (delta === 0) continue
      for (let i = 0; i < d.n; i++) r[i] -= xj[i] * delta
      beta[j] = next
      moved = Math.max(moved, Math.abs(delta))
    }
  }
  let f = 0
  for (let i = 0; i < d.n; i++) f += r[i] * r[i] / 2
  for (let j = 0; j < d.p; j++) f += lambda * Math.abs(beta[j])
  return f
}

function lambdaMax(d: RegressionData): number {
  let m = 0
  for (let j = 0; j < d.p; j++) {
    const xj = column(d, j)
    let g = 0
    for (let i = 0; i < d.n; i++) g += xj[i] * d.y[i]
    m = Math.max(m, Math.abs(g))
  }
  return m
}

/** A scheduler that always picks the same coordinates. */
const fixed = (js: number[]): Scheduler => ({ pick: () => js, observe: () => {} })

describe('runRounds', () => {
  const d = blockData(300, 120, 6, 0.9, 8, 5)
  const lambda = 0.05 * lambdaMax(d)
  const best = sequentialOptimum(d, lambda)
  const target = best * (1 + 1e-4)

  it('SAP with 4 workers reaches the sequential optimum, in fewer rounds than sequential coordinate descent', () => {
    const sap = runRounds(d, lambda, makeScheduler('sap', d, { seed: 2 }), { workers: 4, maxRounds: 50_000 })
    expect(sap.stop).toBe('quiet')
    expect(Math.abs(sap.objective - best) / best).toBeLessThan(1e-4)
    const opts = { maxRounds: 50_000, target }
    const sapToTarget = runRounds(d, lambda, makeScheduler('sap', d, { seed: 2 }), { workers: 4, ...opts })
    const seqToTarget = runRounds(d, lambda, makeScheduler('sequential', d), { workers: 1, ...opts })
    expect(sapToTarget.reached).toBe(true)
    expect(seqToTarget.reached).toBe(true)
    expect(sapToTarget.objective).toBeLessThanOrEqual(target)
    expect(sapToTarget.rounds).toBeLessThan(seqToTarget.rounds / 2)
  })

  it('the sequential scheduler stops after one whole cycle without change, at the optimum', () => {
    const opts = { workers: 4, tolerance: 1e-12 }
    const seq = runRounds(d, lambda, makeScheduler('sequential', d), { ...opts, maxRounds: 100_000 })
    expect(seq.stop).toBe('quiet')
    // the last p rounds moved nothing: the objective was already final a whole cycle before the end
    const tail = runRounds(d, lambda, makeScheduler('sequential', d), { ...opts, maxRounds: seq.rounds - d.p })
    expect(tail.stop).toBe('maxRounds')
    expect(Math.abs(tail.objective - seq.objective) / best).toBeLessThan(1e-12)
    expect(seq.updates).toBe(seq.rounds) // one coordinate a round whatever the worker count
    expect(Math.abs(seq.objective - best) / best).toBeLessThan(1e-9)
  })

  it('Shotgun with many workers on strongly correlated blocks diverges or lags where SAP gets there', () => {
    const hard = blockData(300, 60, 20, 0.95, 3, 5)
    const l = 0.05 * lambdaMax(hard)
    const goal = sequentialOptimum(hard, l) * (1 + 1e-4)
    const opts = { workers: 8, maxRounds: 20_000, target: goal }
    const sap = runRounds(hard, l, makeScheduler('sap', hard, { seed: 2, oversample: 2 }), opts)
    const shotgun = runRounds(hard, l, makeScheduler('shotgun', hard, { seed: 2 }), opts)
    expect(sap.reached).toBe(true)
    expect(shotgun.reached ? shotgun.rounds : Infinity).toBeGreaterThan(sap.rounds)
    expect(shotgun.stop).toBe('diverged')
  })

  it('updates every picked coordinate from the same residual (Jacobi), then applies them all', () => {
    // two identical columns and y = 2·x₀: each alone would step to β = 2, together they overshoot to (2, 2)
    const n = 4
    const x0 = [0.5, -0.5, 0.5, -0.5]
    const x = Float32Array.from([...x0, ...x0])
    const twin: RegressionData = { name: 'twin', n, p: 2, x, y: Float32Array.from(x0.map((v) => 2 * v)) }
    const one = runRounds(twin, 0, fixed([0, 1]), { workers: 2, maxRounds: 1 })
    expect(Array.from(one.beta)).toEqual([2, 2])
    expect(one.objective).toBeCloseTo(2, 12) // ½‖y − 4x₀‖² = ½·4, no better than β = 0
    expect(one.history).toEqual([one.objective])
  })

  it('picks workers × perWorker coordinates a round, skips repeats, records history every k rounds', () => {
    const seen: number[] = []
    const spy: Scheduler = {
      pick: (round, count) => {
        seen.push(count)
        return [round % d.p, round % d.p, (round + 1) % d.p]
      },
      observe: () => {},
    }
    const run = runRounds(d, lambda, spy, { workers: 3, perWorker: 2, maxRounds: 25, historyEvery: 10 })
    expect(seen).toEqual(new Array(25).fill(6))
    expect(run.updates).toBe(2 * 25)
    expect(run.history.length).toBe(3) // rounds 10, 20 and the last, 25
    expect(run.history[2]).toBeCloseTo(run.objective, 9)
    expect(run.stop).toBe('maxRounds')
  })

  it('feeds every update to observe: the observed moves add up to β', () => {
    const sum = new Float64Array(d.p)
    let calls = 0
    const inner = makeScheduler('sap', d, { seed: 3 })
    const spy: Scheduler = {
      pick: (r, c) => inner.pick(r, c),
      observe: (j, delta) => {
        calls++
        sum[j] += delta
        inner.observe(j, delta)
      },
    }
    const run = runRounds(d, lambda, spy, { workers: 4, maxRounds: 200 })
    expect(calls).toBe(run.updates)
    expect(run.updates).toBeGreaterThan(600)
    expect(run.beta.some((b) => b !== 0)).toBe(true)
    for (let j = 0; j < d.p; j++) expect(sum[j]).toBeCloseTo(run.beta[j], 12)
  })
})
