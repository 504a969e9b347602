// The Lasso data: standardising, the correlated generator (determinism, correlations, speed) and regression CSVs.
import { describe, expect, it } from 'vitest'
import { correlatedData, parseRegressionCsv, standardise } from '../../apps/lasso/data.ts'
import { column, type RegressionData } from '../../apps/lasso/types.ts'

const sum = (v: ArrayLike<number>) => Array.from(v).reduce((a, b) => a + b, 0)
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0)

/** ‖y − Xβ̂‖² of ordinary least squares (normal equations, Gaussian elimination with partial pivoting). */
function leastSquaresResidual(d: RegressionData): number {
  const { p } = d
  const a = Array.from({ length: p }, (_, j) => [
    ...Array.from({ length: p }, (_, k) => dot(column(d, j), column(d, k))),
    dot(column(d, j), d.y),
  ])
  for (let c = 0; c < p; c++) {
    let piv = c
    for (let r = c + 1; r < p; r++) if (Math.abs(a[r][c]) > Math.abs(a[piv][c])) piv = r
    ;[a[c], a[piv]] = [a[piv], a[c]]
    for (let r = c + 1; r < p; r++) {
      const f = a[r][c] / a[c][c]
      for (let k = c; k <= p; k++) a[r][k] -= f * a[c][k]
    }
  }
  const beta = new Array<number>(p).fill(0)
  for (let c = p - 1; c >= 0; c--) {
    let s = a[c][p]
    for (let k = c + 1; k < p; k++) s -= a[c][k] * beta[k]
    beta[c] = s / a[c][c]
  }
  let ss = 0
  for (let i = 0; i < d.n; i++) {
    let r = d.y[i]
    for (let j = 0; j < p; j++) r -= beta[j] * d.x[j * d.n + i]
    ss += r * r
  }
  return ss
}

/** Every column has mean ≈ 0 and norm ≈ 1 (or is all zeros), y has mean ≈ 0, and nothing is NaN. */
function expectStandardised(d: RegressionData, zeroColumns: number[] = []) {
  expect(d.x.length).toBe(d.n * d.p)
  expect(d.y.length).toBe(d.n)
  expect(d.x.every(Number.isFinite)).toBe(true)
  expect(d.y.every(Number.isFinite)).toBe(true)
  for (let j = 0; j < d.p; j++) {
    const c = column(d, j)
    expect(Math.abs(sum(c))).toBeLessThan(1e-5)
    if (zeroColumns.includes(j)) expect(c.every((v) => v === 0)).toBe(true)
    else expect(dot(c, c)).toBeCloseTo(1, 5)
  }
  expect(Math.abs(sum(d.y)) / d.n).toBeLessThan(1e-5)
}

describe('standardise', () => {
  it('centres and scales every column to unit norm, centres y, and leaves the inputs alone', () => {
    const x = [1, 2, 3, 4, /* col 1 */ 10, 10, 10, 30, /* col 2 */ -5, 0, 5, 100]
    const y = [1, 2, 3, 10]
    const d = standardise('t', 4, 3, x, y, ['a', 'b', 'c'])
    expectStandardised(d)
    expect(d).toMatchObject({ name: 't', n: 4, p: 3, features: ['a', 'b', 'c'] })
    expect(Array.from(d.y)).toEqual([-3, -2, -1, 6])
    // column 0 = (i − 1.5) / √5
    for (let i = 0; i < 4; i++) expect(d.x[i]).toBeCloseTo((i - 1.5) / Math.sqrt(5), 6)
    expect(x[0]).toBe(1)
    expect(y[3]).toBe(10)
  })

  it('turns a constant column (even one whose mean rounds) into zeros, without NaN', () => {
    const n = 7
    const x = [...Array.from({ length: n }, () => 0.1), ...Array.from({ length: n }, () => 0), ...Array.from({ length: n }, (_, i) => i)]
    const d = standardise('c', n, 3, x, Array.from({ length: n }, (_, i) => i * i))
    expectStandardised(d, [0, 1])
  })

  it('rejects mismatched sizes and non-finite values', () => {
    expect(() => standardise('s', 3, 2, [1, 2, 3], [1, 2, 3])).toThrow(/X has 3 values, expected n·p = 6/)
    expect(() => standardise('s', 3, 1, [1, 2, 3], [1, 2])).toThrow(/y has 2 values/)
    expect(() => standardise('s', 3, 1, [1, 2, 3], [1, 2, 3], ['a', 'b'])).toThrow(/2 feature names for 1 columns/)
    expect(() => standardise('s', 3, 1, [1, NaN, 3], [1, 2, 3])).toThrow(/column 0 has a non-finite value/)
    expect(() => standardise('s', 3, 1, [1, 2, 3], [1, Infinity, 3])).toThrow(/y has a non-finite value/)
  })
})

describe('correlatedData', () => {
  const small = { n: 3000, p: 60, blockSize: 10, correlation: 0.9, seed: 3 }

  it('is standardised and named after its size', () => {
    const d = correlatedData(small)
    expect(d.name).toBe('correlated-3000x60')
    expectStandardised(d)
    expect(dot(d.y, d.y)).toBeGreaterThan(0)
  })

  it('is deterministic per seed and differs across seeds', () => {
    const a = correlatedData({ n: 50, p: 30, seed: 5 })
    const b = correlatedData({ n: 50, p: 30, seed: 5 })
    const c = correlatedData({ n: 50, p: 30, seed: 6 })
    expect(Array.from(b.x)).toEqual(Array.from(a.x))
    expect(Array.from(b.y)).toEqual(Array.from(a.y))
    expect(Array.from(c.x)).not.toEqual(Array.from(a.x))
    expect(Array.from(c.y)).not.toEqual(Array.from(a.y))
  })

  it('correlates columns of a block at about ρ and columns of different blocks at about 0', () => {
    for (const rho of [0.9, 0.5]) {
      const d = correlatedData({ ...small, correlation: rho })
      const inBlock: number[] = []
      const across: number[] = []
      for (let j = 0; j < d.p; j++) {
        for (let k = j + 1; k < d.p; k++) {
          const r = dot(column(d, j), column(d, k)) // unit-norm centred columns: the sample correlation
          ;(Math.floor(j / 10) === Math.floor(k / 10) ? inBlock : across).push(r)
        }
      }
      expect(inBlock.length).toBe(6 * 45)
      expect(Math.abs(sum(inBlock) / inBlock.length - rho)).toBeLessThan(0.02)
      for (const r of inBlock) expect(Math.abs(r - rho)).toBeLessThan(0.08)
      expect(Math.abs(sum(across) / across.length)).toBeLessThan(0.02)
      for (const r of across) expect(Math.abs(r)).toBeLessThan(0.1)
    }
  })

  it('makes y a sparse linear function of X plus noise at the asked ratio', () => {
    for (const noise of [0.1, 0.5]) {
      const d = correlatedData({ n: 4000, p: 20, blockSize: 5, nonzeros: 0.25, noise, seed: 9 })
      // least squares on all 20 features leaves the noise: R² ≈ 1 / (1 + noise²)
      const r2 = 1 - leastSquaresResidual(d) / dot(d.y, d.y)
      expect(r2).toBeCloseTo(1 / (1 + noise * noise), 1)
      // sparse: no single feature explains y
      const best = Math.max(...Array.from({ length: d.p }, (_, j) => dot(column(d, j), d.y) ** 2))
      expect(best / dot(d.y, d.y)).toBeLessThan(0.9)
    }
    // with no signal, y is the noise alone (σ taken as 1), centred
    const pure = correlatedData({ n: 4000, p: 20, nonzeros: 0, noise: 0.3, seed: 9 })
    expect(Math.sqrt(dot(pure.y, pure.y) / pure.n)).toBeCloseTo(0.3, 1)
  })

  it('rejects bad options', () => {
    expect(() => correlatedData({ n: 1 })).toThrow(/n must be/)
    expect(() => correlatedData({ p: 0 })).toThrow(/p must be/)
    expect(() => correlatedData({ blockSize: 0 })).toThrow(/blockSize/)
    expect(() => correlatedData({ correlation: 1.5 })).toThrow(/correlation/)
    expect(() => correlatedData({ nonzeros: -0.1 })).toThrow(/nonzeros/)
    expect(() => correlatedData({ noise: -1 })).toThrow(/noise/)
  })

  it('makes the default size (2000 × 10000) quickly', () => {
    const t0 = performance.now()
    const d = correlatedData()
    const ms = performance.now() - t0
    console.log(`correlatedData() default ${d.name}: ${ms.toFixed(0)} ms`)
    expect([d.n, d.p, d.x.length]).toEqual([2000, 10000, 20_000_000])
    expect(d.name).toBe('correlated-2000x10000')
    expect(ms).toBeLessThan(10_000)
    // spot-check: a few columns standardised, the first two (same block) correlated
    for (const j of [0, 4321, 9999]) expect(dot(column(d, j), column(d, j))).toBeCloseTo(1, 4)
    expect(dot(column(d, 0), column(d, 1))).toBeGreaterThan(0.8)
  })
})

describe('parseRegressionCsv', () => {
  const text = 'price,size,rooms\n3,50,2\n5,80,3\n\n4,60,4\n'

  it('takes the first column as the target by default and keeps the other names', () => {
    const d = parseRegressionCsv(text, { name: 'houses' })
    expect(d).toMatchObject({ name: 'houses', n: 3, p: 2, features: ['size', 'rooms'] })
    expect(Array.from(d.y)).toEqual([-1, 1, 0])
    expectStandardised(d)
    // size column: 50, 80, 60 → centred (−13.33, 16.67, −3.33)
    const size = column(d, 0)
    expect(size[1]).toBeGreaterThan(size[2])
    expect(size[2]).toBeGreaterThan(size[0])
  })

  it('picks the target by name or index', () => {
    const byName = parseRegressionCsv(text, { target: 'rooms' })
    const byIndex = parseRegressionCsv(text, { target: 2 })
    for (const d of [byName, byIndex]) {
      expect(d.features).toEqual(['price', 'size'])
      expect(Array.from(d.y)).toEqual([-1, 0, 1])
    }
    expect(Array.from(byName.x)).toEqual(Array.from(byIndex.x))
    const mid = parseRegressionCsv(text, { target: 'size' })
    expect(mid.features).toEqual(['price', 'rooms'])
    expect(mid.y[1]).toBeCloseTo(80 - 190 / 3, 4)
  })

  it('reads CRLF, a BOM and quoted fields', () => {
    const d = parseRegressionCsv('\uFEFF"y","a,b"\r\n1,"2"\r\n3,5\r\n')
    expect(d.features).toEqual(['a,b'])
    expect(Array.from(d.y)).toEqual([-1, 1])
  })

  it('names the line and column of a non-numeric cell', () => {
    expect(() => parseRegressionCsv('y,a,b\n1,2,3\n4,five,6\n')).toThrow(/line 3, column 2 \("a"\): "five" is not a number/)
    expect(() => parseRegressionCsv('y,a\n1,2\n\n4,\n')).toThrow(/line 4, column 2 \("a"\): "" is not a number/)
    expect(() => parseRegressionCsv('y,a\nNaN,2\n4,1\n')).toThrow(/line 2, column 1 \("y"\)/)
    expect(() => parseRegressionCsv('y,a\n1,1e999\n4,1\n')).toThrow(/line 2, column 2 .*out of range/)
  })

  it('names the line of a ragged row', () => {
    expect(() => parseRegressionCsv('y,a,b\n1,2,3\n4,5\n')).toThrow(/line 3: 2 fields, expected 3/)
    expect(() => parseRegressionCsv('y,a\n1,2\n4,5,6\n')).toThrow(/line 3: 3 fields, expected 2/)
  })

  it('rejects too few rows, no feature column and an unknown target', () => {
    expect(() => parseRegressionCsv('')).toThrow(/empty CSV/)
    expect(() => parseRegressionCsv('y,a\n1,2\n')).toThrow(/1 data row, a regression needs at least 2/)
    expect(() => parseRegressionCsv('y,a\n')).toThrow(/0 data rows/)
    expect(() => parseRegressionCsv('y\n1\n2\n')).toThrow(/no feature column/)
    expect(() => parseRegressionCsv(text, { target: 'area' })).toThrow(/no column named "area"/)
    expect(() => parseRegressionCsv(text, { target: 3 })).toThrow(/target index 3/)
    expect(() => parseRegressionCsv('y,a,a\n1,2,3\n4,5,7\n', { target: 'a' })).toThrow(/2 columns are named "a"/)
  })
})
