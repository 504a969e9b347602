// The sequential Lasso oracle: KKT conditions, monotone sweeps, λ_max, an exact 2-feature check, and the objective.
import { describe, expect, it } from 'vitest'
import { correlatedData, standardise } from '../../apps/lasso/data.ts'
import { lambdaMax, nonzeros, objective, residual, softThreshold } from '../../apps/lasso/objective.ts'
import { sequentialLasso } from '../../apps/lasso/reference.ts'
import { column, type RegressionData } from '../../apps/lasso/types.ts'

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0
  for (let i = 0; i < a.length; i++) s += a[i] * b[i]
  return s
}

/** The largest violation of the Lasso KKT conditions at β: xⱼᵀr = λ·sign(βⱼ) if βⱼ ≠ 0, |xⱼᵀr| ≤ λ otherwise. */
function kktViolation(d: RegressionData, beta: ArrayLike<number>, lambda: number): number {
  const r = residual(d, beta)
  let worst = 0
  for (let j = 0; j < d.p; j++) {
    const g = dot(column(d, j), r)
    const v = beta[j] !== 0 ? Math.abs(g - lambda * Math.sign(beta[j])) : Math.max(0, Math.abs(g) - lambda)
    worst = Math.max(worst, v)
  }
  return worst
}

describe('objective pieces', () => {
  const d = standardise('t', 4, 2, [1, 2, 3, 4, 1, 0, 0, 1], [1, 3, 2, 6])

  it('soft-thresholds', () => {
    expect([3, 1.5, 1, 0.2, 0, -0.2, -1, -3].map((z) => softThreshold(z, 1))).toEqual([2, 0.5, 0, 0, 0, 0, 0, -2])
    expect(softThreshold(-2, 0)).toBe(-2)
  })

  it('computes the residual, the objective and the support size', () => {
    const beta = [0.5, -2]
    const r = residual(d, beta)
    for (let i = 0; i < 4; i++) expect(r[i]).toBeCloseTo(d.y[i] - 0.5 * d.x[i] + 2 * d.x[4 + i], 6)
    expect(objective(d, beta, 0.3)).toBeCloseTo(0.5 * dot(r, r) + 0.3 * 2.5, 6)
    expect(objective(d, [0, 0], 7)).toBeCloseTo(0.5 * dot(d.y, d.y), 6)
    expect(nonzeros([0, 1.5, 0, -2, -0])).toBe(2)
    expect(() => residual(d, [1])).toThrow(/β has 1 values, expected p = 2/)
  })

  it('λ_max is the largest |xⱼᵀy|', () => {
    const want = Math.max(Math.abs(dot(column(d, 0), d.y)), Math.abs(dot(column(d, 1), d.y)))
    expect(lambdaMax(d)).toBeCloseTo(want, 6)
    expect(lambdaMax(d)).toBeGreaterThan(0)
  })
})

describe('sequentialLasso', () => {
  const d = correlatedData({ n: 200, p: 50, blockSize: 5, nonzeros: 0.2, seed: 4 })
  const lmax = lambdaMax(d)

  it.each([0.5, 0.1, 0.01])('satisfies the KKT conditions at λ = %s·λ_max', (f) => {
    const lambda = f * lmax
    // the KKT residual is about √(2·decrease per sweep), so 1e-4 on it needs a tighter stop than the default
    const res = sequentialLasso(d, lambda, { tolerance: 1e-13 })
    expect(res.sweeps).toBeLessThan(1000) // converged, not cut off
    expect(kktViolation(d, res.beta, lambda)).toBeLessThan(1e-4)
    expect(res.nonzeros).toBe(nonzeros(res.beta))
    expect(res.nonzeros).toBeGreaterThan(0)
    expect(res.objective).toBeCloseTo(objective(d, res.beta, lambda), 8)
    expect(res.history.length).toBe(res.sweeps)
    expect(res.history[res.history.length - 1]).toBeCloseTo(res.objective, 6)
    // the default tolerance stops earlier, with the objective already within 1e-6 relative
    const normal = sequentialLasso(d, lambda)
    expect(normal.sweeps).toBeLessThan(res.sweeps)
    expect(Math.abs(normal.objective - res.objective) / res.objective).toBeLessThan(1e-6)
    // the objective is minimal: nudging any coordinate does not lower it
    for (const j of [0, 7, 23, 49]) {
      for (const step of [1e-3, -1e-3]) {
        const moved = Float64Array.from(res.beta)
        moved[j] += step
        expect(objective(d, moved, lambda)).toBeGreaterThan(res.objective - 1e-9)
      }
    }
  })

  it('selects fewer features as λ grows', () => {
    const counts = [0.01, 0.1, 0.5, 0.9].map((f) => sequentialLasso(d, f * lmax).nonzeros)
    for (let k = 1; k < counts.length; k++) expect(counts[k]).toBeLessThanOrEqual(counts[k - 1])
    expect(counts[0]).toBeGreaterThan(counts[3])
  })

  it('lowers the objective monotonically, sweep after sweep, from ½‖y‖²', () => {
    const res = sequentialLasso(d, 0.02 * lmax, { tolerance: 1e-12 })
    expect(res.history.length).toBeGreaterThan(5)
    expect(res.history[0]).toBeLessThan(0.5 * dot(d.y, d.y))
    for (let k = 1; k < res.history.length; k++) expect(res.history[k]).toBeLessThanOrEqual(res.history[k - 1] + 1e-12)
    // a looser tolerance stops sooner, at a slightly higher objective
    const loose = sequentialLasso(d, 0.02 * lmax, { tolerance: 1e-3 })
    expect(loose.sweeps).toBeLessThan(res.sweeps)
    expect(loose.objective).toBeGreaterThanOrEqual(res.objective - 1e-9)
    expect((loose.objective - res.objective) / res.objective).toBeLessThan(1e-2)
  })

  it('stops at maxSweeps', () => {
    const res = sequentialLasso(d, 0.001 * lmax, { tolerance: 0, maxSweeps: 3 })
    expect(res.sweeps).toBe(3)
    expect(res.history.length).toBe(3)
  })

  it('gives β = 0 for λ ≥ λ_max, and a nonzero β just below it', () => {
    for (const lambda of [lmax, 1.5 * lmax]) {
      const res = sequentialLasso(d, lambda)
      expect(res.nonzeros).toBe(0)
      expect(res.beta.every((b) => b === 0)).toBe(true)
      expect(res.objective).toBeCloseTo(0.5 * dot(d.y, d.y), 6)
    }
    expect(sequentialLasso(d, 0.99 * lmax).nonzeros).toBeGreaterThan(0)
  })

  it('leaves an all-zero (constant) column at 0 and rejects a bad λ or options', () => {
    const x = [...Array.from({ length: 20 }, (_, i) => Math.sin(i)), ...Array.from({ length: 20 }, () => 3)]
    const c = standardise('c', 20, 2, x, Array.from({ length: 20 }, (_, i) => Math.sin(i) + 0.1 * Math.cos(7 * i)))
    const res = sequentialLasso(c, 0.01)
    expect(res.beta[1]).toBe(0)
    expect(res.beta[0]).toBeGreaterThan(0.5)
    expect(() => sequentialLasso(d, -1)).toThrow(/λ must be ≥ 0/)
    expect(() => sequentialLasso(d, 1, { maxSweeps: 0 })).toThrow(/maxSweeps/)
  })

  it('matches the exact solution of a 2-feature problem, found by enumerating sign patterns', () => {
    for (const [rho, seed] of [
      [0.95, 1],
      [0.3, 2],
      [0.8, 3],
    ]) {
      const two = correlatedData({ n: 100, p: 2, blockSize: 2, correlation: rho, nonzeros: 1, noise: 0.5, seed })
      const c = dot(column(two, 0), column(two, 1))
      const g = [dot(column(two, 0), two.y), dot(column(two, 1), two.y)]
      for (const f of [0.05, 0.3, 0.7]) {
        const lambda = f * lambdaMax(two)
        // every candidate with a fixed sign pattern s: solve the stationarity equations on the support, keep it if
        // its signs agree; the optimum is one of them, and it has the lowest objective
        const candidates: number[][] = [[0, 0]]
        for (const s of [-1, 1]) {
          if (Math.sign(g[0] - lambda * s) === s) candidates.push([g[0] - lambda * s, 0])
          if (Math.sign(g[1] - lambda * s) === s) candidates.push([0, g[1] - lambda * s])
          for (const t of [-1, 1]) {
            const det = 1 - c * c
            const b0 = (g[0] - lambda * s - c * (g[1] - lambda * t)) / det
            const b1 = (g[1] - lambda * t - c * (g[0] - lambda * s)) / det
            if (Math.sign(b0) === s && Math.sign(b1) === t) candidates.push([b0, b1])
          }
        }
        const best = candidates.reduce((a, b) => (objective(two, b, lambda) < objective(two, a, lambda) ? b : a))
        // and a brute-force grid around it finds nothing lower
        const fBest = objective(two, best, lambda)
        for (let u = -1; u <= 1; u += 0.05) {
          for (let v = -1; v <= 1; v += 0.05) {
            expect(objective(two, [best[0] + u, best[1] + v], lambda)).toBeGreaterThanOrEqual(fBest - 1e-9)
          }
        }
        const res = sequentialLasso(two, lambda, { tolerance: 1e-12 })
        expect(res.beta[0]).toBeCloseTo(best[0], 4)
        expect(res.beta[1]).toBeCloseTo(best[1], 4)
        expect(res.objective).toBeCloseTo(fBest, 8)
      }
    }
  })

  it('reaches the tight-tolerance optimum within 1e-4 relative at the default tolerance, on correlated data', () => {
    const big = correlatedData({ n: 300, p: 400, blockSize: 10, correlation: 0.9, seed: 8 })
    const lambda = 0.05 * lambdaMax(big)
    const tight = sequentialLasso(big, lambda, { tolerance: 1e-13, maxSweeps: 20_000 })
    const normal = sequentialLasso(big, lambda)
    expect(normal.sweeps).toBeLessThan(1000)
    expect((normal.objective - tight.objective) / tight.objective).toBeLessThan(1e-4)
    expect(kktViolation(big, tight.beta, lambda)).toBeLessThan(1e-5)
  })
})
