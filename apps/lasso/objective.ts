// The Lasso objective ½‖y − Xβ‖² + λ‖β‖₁ and its pieces: residual, support size, λ_max and the soft-threshold.
import type { RegressionData } from './types.ts'

/**
 * ½‖y − Xβ‖² + λ‖β‖₁, accumulated in float64.
 *
 * @example
 * objective(d, new Float64Array(d.p), 0.1) // ½‖y‖², β = 0
 */
export function objective(d: RegressionData, beta: ArrayLike<number>, lambda: number): number {
  const r = residual(d, beta)
  let ss = 0
  for (let i = 0; i < d.n; i++) ss += r[i] * r[i]
  let l1 = 0
  for (let j = 0; j < d.p; j++) l1 += Math.abs(beta[j])
  return 0.5 * ss + lambda * l1
}

/**
 * The residual r = y − Xβ in float64 (columns with βⱼ = 0 are skipped).
 *
 * @example
 * residual(d, new Float64Array(d.p)) // a float64 copy of d.y
 */
export function residual(d: RegressionData, beta: ArrayLike<number>): Float64Array {
  const { n, p, x, y } = d
  if (beta.length !== p) throw new RangeError(`residual: β has ${beta.length} values, expected p = ${p}`)
  const r = new Float64Array(n)
  for (let i = 0; i < n; i++) r[i] = y[i]
  for (let j = 0; j < p; j++) {
    const b = beta[j]
    if (b === 0) continue
    const off = j * n
    for (let i = 0; i < n; i++) r[i] -= b * x[off + i]
  }
  return r
}

/**
 * How many coefficients are nonzero.
 *
 * @example
 * nonzeros([0, 1.5, 0, -2]) // 2
 */
export function nonzeros(beta: ArrayLike<number>): number {
  let k = 0
  for (let j = 0; j < beta.length; j++) if (beta[j] !== 0) k++
  return k
}

/**
 * λ_max = maxⱼ |xⱼᵀy|: the smallest λ at which β = 0 solves the Lasso (for standardised columns).
 *
 * @example
 * const path = [1, 0.5, 0.1].map((f) => f * lambdaMax(d))
 */
export function lambdaMax(d: RegressionData): number {
  const { n, p, x, y } = d
  let best = 0
  for (let j = 0; j < p; j++) {
    const off = j * n
    let dot = 0
    for (let i = 0; i < n; i++) dot += x[off + i] * y[i]
    const a = Math.abs(dot)
    if (a > best) best = a
  }
  return best
}

/**
 * The soft-threshold S(z, t) = sign(z)·max(|z| − t, 0), the coordinate update of the Lasso.
 *
 * @example
 * softThreshold(3, 1) // 2
 * softThreshold(-0.5, 1) // 0
 */
export function softThreshold(z: number, t: number): number {
  if (z > t) return z - t
  if (z < -t) return z + t
  return 0
}

/** xᵀy in float64. */
export function dot(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < x.length; i++) s += x[i] * y[i]
  return s
}
