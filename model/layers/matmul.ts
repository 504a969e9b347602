// The reference of the tiled WGSL matmul: C = α·op(A)·op(B) + β·C over row-major operands at element offsets.

/** The product's shape and coefficients: op(A) is M×Kd, op(B) is Kd×N (the WGSL kernel takes the same). */
export interface MatmulShape {
  M: number
  N: number
  Kd: number
  /** A is stored M×Kd, or Kd×M when transA. */
  transA?: boolean
  /** B is stored Kd×N, or N×Kd when transB. */
  transB?: boolean
  alpha?: number
  /** 0 overwrites C (its old contents are ignored, NaN included); 1 accumulates. */
  beta?: number
}

export interface MatmulArgs extends MatmulShape {
  A: Float32Array
  B: Float32Array
  C: Float32Array
  offA?: number
  offB?: number
  offC?: number
}

/**
 * C[offC + i·N + j] = α·Σₖ op(A)[i,k]·op(B)[k,j] + β·C[…]. Loop orders keep the inner loop on contiguous rows.
 *
 * @example
 * // dense forward, Y (B×K) = X (B×J) · Wᵀ
 * matmul({ A: X, B: W, C: Y, M: B, N: K, Kd: J, transB: true })
 */
export function matmul(a: MatmulArgs): void {
  const { A, B, C, M, N, Kd } = a
  const alpha = a.alpha ?? 1
  const beta = a.beta ?? 0
  const oA = a.offA ?? 0
  const oB = a.offB ?? 0
  const oC = a.offC ?? 0
  for (let i = 0; i < M; i++) {
    const r = oC + i * N
    if (beta === 0) C.fill(0, r, r + N)
    else if (beta !== 1) for (let j = 0; j < N; j++) C[r + j] *= beta
  }
  if (!a.transA && a.transB) {
    for (let i = 0; i < M; i++) {
      const ai = oA + i * Kd
      for (let j = 0; j < N; j++) {
        const bj = oB + j * Kd
        let s = 0
        for (let k = 0; k < Kd; k++) s += A[ai + k] * B[bj + k]
        C[oC + i * N + j] += alpha * s
      }
    }
    return
  }
  if (a.transA && a.transB) {
    for (let i = 0; i < M; i++) {
      for (let j = 0; j < N; j++) {
        let s = 0
        for (let k = 0; k < Kd; k++) s += A[oA + k * M + i] * B[oB + j * Kd + k]
        C[oC + i * N + j] += alpha * s
      }
    }
    return
  }
  // op(B) rows are contiguous: accumulate row k of B scaled by op(A)[i,k] into row i of C.
  const row = new Float64Array(N)
  for (let i = 0; i < M; i++) {
    row.fill(0)
    for (let k = 0; k < Kd; k++) {
      const v = a.transA ? A[oA + k * M + i] : A[oA + i * Kd + k]
      if (v === 0) continue
      const bk = oB + k * N
      for (let j = 0; j < N; j++) row[j] += v * B[bk + j]
    }
    const r = oC + i * N
    for (let j = 0; j < N; j++) C[r + j] += alpha * row[j]
  }
}

/** out[j] = Σᵢ X[i·cols + j]: a bias gradient (column sums of rows×cols). */
export function columnSums(X: Float32Array, rows: number, cols: number): Float32Array {
  const acc = new Float64Array(cols)
  for (let i = 0; i < rows; i++) {
    const o = i * cols
    for (let j = 0; j < cols; j++) acc[j] += X[o + j]
  }
  return Float32Array.from(acc)
}
