// A Lasso worker's round on the columns it holds (the reference the WGSL kernels are checked against): every picked
// coordinate reads the same residual, then the round's residual change is applied and sent on.
import { softThreshold } from './objective.ts'

/** The columns a worker holds: `cols` columns of `n` rows, column-major (column k at [k·n, (k+1)·n)). */
export interface ColumnBlock {
  n: number
  cols: number
  x: Float32Array
}

/**
 * For each pick k (a column index within the block), z = xⱼᵀr + ‖xⱼ‖²βⱼ and βⱼ' = S(z, λ) / ‖xⱼ‖² (0 for an all-zero
 * column); βⱼ is updated in place and the change returned, delta[k] = βⱼ' − βⱼ. Picks must be distinct. `norms`:
 * ‖xⱼ‖² per column of the block, where the caller has them (else computed alongside xⱼᵀr).
 *
 * @example
 * const delta = coordinateDeltas(block, r, [3, 17], beta, 0.1) // beta[3], beta[17] updated
 */
export function coordinateDeltas(
  b: ColumnBlock,
  r: ArrayLike<number>,
  picks: ArrayLike<number>,
  beta: Float32Array | Float64Array,
  lambda: number,
  norms?: ArrayLike<number>,
): Float64Array {
  const { n, x } = b
  const delta = new Float64Array(picks.length)
  for (let k = 0; k < picks.length; k++) {
    const j = picks[k]
    const off = j * n
    let xr = 0
    let xx = norms?.[j] ?? 0
    if (norms) for (let i = 0; i < n; i++) xr += x[off + i] * r[i]
    else
      for (let i = 0; i < n; i++) {
        xr += x[off + i] * r[i]
        xx += x[off + i] * x[off + i]
      }
    const next = xx > 0 ? softThreshold(xr + xx * beta[j], lambda) / xx : 0
    delta[k] = next - beta[j]
    beta[j] = next
  }
  return delta
}

/**
 * The round's residual change dr = Σₖ x_{picks[k]}·delta[k] (this app's sufficient factor: what the worker sends its
 * peers), taken off its own residual: r −= dr.
 *
 * @example
 * const dr = residualChange(block, [3, 17], delta, r)
 */
export function residualChange(b: ColumnBlock, picks: ArrayLike<number>, delta: ArrayLike<number>, r: Float32Array | Float64Array): Float64Array {
  const { n, x } = b
  const dr = new Float64Array(n)
  for (let k = 0; k < picks.length; k++) {
    const d = delta[k]
    if (d === 0) continue
    const off = picks[k] * n
    for (let i = 0; i < n; i++) dr[i] += x[off + i] * d
  }
  for (let i = 0; i < n; i++) r[i] -= dr[i]
  return dr
}
