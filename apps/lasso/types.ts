// The Lasso app's shapes (issue 9, STRADS): regression data held by column, and the problem min ½‖y − Xβ‖² + λ‖β‖₁.

/**
 * A regression set stored by column, as model-parallel coordinate descent reads it: column j of X is
 * `x.subarray(j * n, (j + 1) * n)`. Standardised: every column has mean 0 and unit ℓ2 norm (xⱼᵀxⱼ = 1), and y has
 * mean 0, so the coordinate update is a soft-threshold of βⱼ + xⱼᵀr and |xⱼᵀxₖ| is the correlation of two columns.
 */
export interface RegressionData {
  name: string
  /** Samples (rows). */
  n: number
  /** Features (columns). */
  p: number
  /** n·p floats, column-major. */
  x: Float32Array
  /** n targets, centred. */
  y: Float32Array
  /** Feature names (a CSV's header), when known. */
  features?: string[]
  /**
   * How the raw data was standardised: column j was (raw − xMean[j]) / xNorm[j] (xNorm 0: a constant column, zeroed),
   * y was raw − yMean. A coefficient on the raw scale is βⱼ / xNorm[j]; the intercept yMean − Σ xMean[j]·βⱼ / xNorm[j].
   */
  scaling?: { xMean: Float64Array; xNorm: Float64Array; yMean: number }
}

/** Column j of X (a view, no copy). */
export function column(d: RegressionData, j: number): Float32Array {
  return d.x.subarray(j * d.n, (j + 1) * d.n)
}
