// Small correlated regression columns for the Lasso tests: blocks of columns that share a factor.
import { gaussian } from '../../model/random.ts'

/**
 * `p` columns of `n` rows, column-major, in blocks of `block` sharing a factor (pairwise correlation ≈ rho), each
 * centred and unit-norm; draws from `rand` (the caller goes on drawing its target from it).
 */
export function blockColumns(n: number, p: number, block: number, rho: number, rand: () => number): Float32Array {
  const x = new Float32Array(n * p)
  const z = new Float64Array(n)
  const col = new Float64Array(n)
  for (let j = 0; j < p; j++) {
    if (j % block === 0) for (let i = 0; i < n; i++) z[i] = gaussian(rand)
    let mean = 0
    for (let i = 0; i < n; i++) mean += col[i] = Math.sqrt(rho) * z[i] + Math.sqrt(1 - rho) * gaussian(rand)
    mean /= n
    let ss = 0
    for (let i = 0; i < n; i++) ss += (col[i] -= mean) ** 2
    for (let i = 0; i < n; i++) x[j * n + i] = col[i] / Math.sqrt(ss)
  }
  return x
}
