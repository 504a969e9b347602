// The sequential Lasso oracle: cyclic coordinate descent on one thread, which the grid's objective is checked against.
import { nonzeros, objective, softThreshold } from './objective.ts'
import type { RegressionData } from './types.ts'

/** Stopping rule of {@link sequentialLasso}. */
export interface SequentialOptions {
  /**
   * Stop when a sweep lowers the objective by less than this fraction of it; default 1e-7, which leaves the objective
   * within about 1e-6 of its minimum (relative). The KKT residual |xⱼᵀr − λ·sign(βⱼ)| shrinks only like the square
   * root of a sweep's decrease: pass about 1e-13 to bring it below 1e-4.
   */
  tolerance?: number
  /** Stop after this many sweeps at most; default 1000. */
  maxSweeps?: number
}

/** What {@link sequentialLasso} found. */
export interface SequentialResult {
  beta: Float64Array
  /** ½‖y − Xβ‖² + λ‖β‖₁ at `beta`, recomputed from scratch. */
  objective: number
  /** Sweeps over all p coordinates done. */
  sweeps: number
  /** Nonzero coefficients in `beta`. */
  nonzeros: number
  /** The objective after each sweep (monotonically non-increasing). */
  history: number[]
}

/**
 * Solves min ½‖y − Xβ‖² + λ‖β‖₁ by cyclic coordinate descent from β = 0, keeping the float64 residual r = y − Xβ:
 * for each j, z = βⱼ + xⱼᵀr, βⱼ' = S(z, λ) (columns have unit norm; an all-zero column keeps βⱼ = 0), and
 * r −= xⱼ(βⱼ' − βⱼ). Stops when a sweep's relative objective decrease is below `tolerance`, or after `maxSweeps`.
 *
 * @example
 * const d = correlatedData({ n: 200, p: 50 })
 * const { beta, objective, sweeps } = sequentialLasso(d, 0.1 * lambdaMax(d))
 */
export function sequentialLasso(d: RegressionData, lambda: number, opts: SequentialOptions = {}): SequentialResult {
  const { tolerance = 1e-7, maxSweeps = 1000 } = opts
  if (!(lambda >= 0 && Number.isFinite(lambda))) throw new RangeError(`sequentialLasso: λ must be ≥ 0, got ${lambda}`)
  if (!(tolerance >= 0)) throw new RangeError(`sequentialLasso: tolerance must be ≥ 0, got ${tolerance}`)
  if (!Number.isInteger(maxSweeps) || maxSweeps < 1) {
    throw new RangeError(`sequentialLasso: maxSweeps must be an integer ≥ 1, got ${maxSweeps}`)
  }
  const { n, p, x, y } = d
  const beta = new Float64Array(p)
  const r = new Float64Array(n)
  for (let i = 0; i < n; i++) r[i] = y[i]
  const empty = emptyColumns(d)
  const history: number[] = []
  let previous = halfSquares(r)
  let sweeps = 0
  while (sweeps < maxSweeps) {
    for (let j = 0; j < p; j++) {
      if (empty[j]) continue
      const off = j * n
      let dot = 0
      for (let i = 0; i < n; i++) dot += x[off + i] * r[i]
      const old = beta[j]
      const next = softThreshold(old + dot, lambda)
      const delta = next - old
      if (delta === 0) continue
      beta[j] = next
      for (let i = 0; i < n; i++) r[i] -= delta * x[off + i]
    }
    sweeps++
    let l1 = 0
    for (let j = 0; j < p; j++) l1 += Math.abs(beta[j])
    const current = halfSquares(r) + lambda * l1
    history.push(current)
    const decrease = previous - current
    previous = current
    if (!(decrease > tolerance * Math.abs(current))) break
  }
  return { beta, objective: objective(d, beta, lambda), sweeps, nonzeros: nonzeros(beta), history }
}

/** ½‖r‖². */
function halfSquares(r: Float64Array): number {
  let ss = 0
  for (let i = 0; i < r.length; i++) ss += r[i] * r[i]
  return 0.5 * ss
}

/** Which columns are all zero (a constant feature after standardising): their coefficient stays 0. */
function emptyColumns(d: RegressionData): Uint8Array {
  const { n, p, x } = d
  const empty = new Uint8Array(p)
  for (let j = 0; j < p; j++) {
    let any = false
    for (let i = j * n, end = i + n; i < end; i++) {
      if (x[i] !== 0) {
        any = true
        break
      }
    }
    empty[j] = any ? 0 : 1
  }
  return empty
}
