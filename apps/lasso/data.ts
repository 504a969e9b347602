// Lasso regression sets: standardising columns, the built-in correlated generator, and parsing a regression CSV.
import { gaussian, mulberry32 } from '../../model/random.ts'
import type { RegressionData } from './types.ts'

/**
 * Standardises a regression set: every column of X is centred and scaled to unit ℓ2 norm (a constant column becomes
 * all zeros), and y is centred. Computes in float64 and stores Float32Array; the inputs are not modified.
 *
 * @param xColumnMajor n·p values, column j at `[j·n, (j+1)·n)`.
 * @param features optional feature names, one per column.
 * @throws RangeError when the sizes disagree or a value is not finite.
 *
 * @example
 * const d = standardise('tiny', 3, 1, [1, 2, 3], [1, 2, 6])
 * d.x // Float32Array [-0.7071, 0, 0.7071]
 * d.y // Float32Array [-2, -1, 3]
 */
export function standardise(
  name: string,
  n: number,
  p: number,
  xColumnMajor: ArrayLike<number>,
  y: ArrayLike<number>,
  features?: string[],
): RegressionData {
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(p) || p < 0) {
    throw new RangeError(`standardise: n must be a positive integer and p a non-negative one, got n=${n}, p=${p}`)
  }
  if (xColumnMajor.length !== n * p) {
    throw new RangeError(`standardise: X has ${xColumnMajor.length} values, expected n·p = ${n * p}`)
  }
  if (y.length !== n) throw new RangeError(`standardise: y has ${y.length} values, expected n = ${n}`)
  if (features !== undefined && features.length !== p) {
    throw new RangeError(`standardise: ${features.length} feature names for ${p} columns`)
  }
  const x = new Float32Array(n * p)
  const xMean = new Float64Array(p)
  const xNorm = new Float64Array(p)
  for (let j = 0; j < p; j++) {
    const c = standardiseColumn(xColumnMajor, j * n, n, x)
    if (!c) throw new RangeError(`standardise: column ${j}${features ? ` (${features[j]})` : ''} has a non-finite value`)
    xMean[j] = c.mean
    xNorm[j] = c.norm
  }
  let sum = 0
  for (let i = 0; i < n; i++) sum += y[i]
  if (!Number.isFinite(sum)) throw new RangeError('standardise: y has a non-finite value')
  const mean = sum / n
  const yc = new Float32Array(n)
  for (let i = 0; i < n; i++) yc[i] = y[i] - mean
  const scaling = { xMean, xNorm, yMean: mean }
  return features === undefined ? { name, n, p, x, y: yc, scaling } : { name, n, p, x, y: yc, features: features.slice(), scaling }
}

/**
 * Centres and scales `src[offset .. offset+n)` to unit norm into `out` at the same offset, in float64. A column whose
 * centred norm is at rounding level of its magnitude (a constant column) becomes zeros (norm 0). Null on a non-finite
 * value.
 */
function standardiseColumn(src: ArrayLike<number>, offset: number, n: number, out: Float32Array): { mean: number; norm: number } | null {
  const end = offset + n
  let sum = 0
  let maxAbs = 0
  for (let i = offset; i < end; i++) {
    const v = src[i]
    sum += v
    const a = v < 0 ? -v : v
    if (a > maxAbs) maxAbs = a
  }
  if (!Number.isFinite(sum) || !Number.isFinite(maxAbs)) return null
  const mean = sum / n
  let ss = 0
  for (let i = offset; i < end; i++) {
    const c = src[i] - mean
    ss += c * c
  }
  const norm = Math.sqrt(ss)
  if (!(norm > 1e-12 * maxAbs * Math.sqrt(n))) {
    out.fill(0, offset, end)
    return { mean, norm: 0 }
  }
  const scale = 1 / norm
  for (let i = offset; i < end; i++) out[i] = (src[i] - mean) * scale
  return { mean, norm }
}

/** Options of the built-in generator; see {@link correlatedData}. */
export interface CorrelatedOptions {
  /** Samples; default 2000. */
  n?: number
  /** Features; default 10000. */
  p?: number
  /** Features per block of correlated columns; default 10 (the last block may be shorter). */
  blockSize?: number
  /** ρ, the correlation of two columns in one block; default 0.9. */
  correlation?: number
  /** Fraction of the true β that is nonzero; default 0.02. */
  nonzeros?: number
  /** Noise standard deviation relative to that of Xβ; default 0.1. */
  noise?: number
  /** default 1. */
  seed?: number
}

/**
 * The built-in Lasso set, with blocks of strongly correlated features so that scheduling matters: in block b,
 * xⱼ = √ρ·z_b + √(1−ρ)·eⱼ with z_b, eⱼ standard Gaussian, so two columns of a block correlate at about ρ and columns
 * of different blocks at about 0. A seeded ⌈nonzeros·p⌉-sized set of true coefficients is ±(0.5..2), the rest 0, and
 * y = Xβ + noise·σ(Xβ)·ε. Returned standardised. The default size (20M floats) takes about a second.
 *
 * @example
 * const d = correlatedData({ n: 100, p: 40, blockSize: 4, seed: 7 })
 * d.name // 'correlated-100x40'
 * d.x.length // 4000
 */
export function correlatedData(opts: CorrelatedOptions = {}): RegressionData {
  const { n = 2000, p = 10000, blockSize = 10, correlation = 0.9, nonzeros = 0.02, noise = 0.1, seed = 1 } = opts
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`correlatedData: n must be an integer ≥ 2, got ${n}`)
  if (!Number.isInteger(p) || p < 1) throw new RangeError(`correlatedData: p must be an integer ≥ 1, got ${p}`)
  if (!Number.isInteger(blockSize) || blockSize < 1) {
    throw new RangeError(`correlatedData: blockSize must be an integer ≥ 1, got ${blockSize}`)
  }
  if (!(correlation >= 0 && correlation <= 1)) {
    throw new RangeError(`correlatedData: correlation must be in [0, 1], got ${correlation}`)
  }
  if (!(nonzeros >= 0 && nonzeros <= 1)) throw new RangeError(`correlatedData: nonzeros must be in [0, 1], got ${nonzeros}`)
  if (!(noise >= 0 && Number.isFinite(noise))) throw new RangeError(`correlatedData: noise must be ≥ 0, got ${noise}`)

  const rand = mulberry32(seed)
  const beta = trueBeta(rand, p, Math.ceil(nonzeros * p - 1e-9))
  const shared = Math.sqrt(correlation)
  const own = Math.sqrt(1 - correlation)
  const z = new Float64Array(n)
  const col = new Float64Array(n)
  const signal = new Float64Array(n)
  const x = new Float32Array(n * p)
  for (let j = 0; j < p; j++) {
    if (j % blockSize === 0) fillGaussian(rand, z)
    fillGaussian(rand, col)
    for (let i = 0; i < n; i++) col[i] = shared * z[i] + own * col[i]
    const b = beta[j]
    if (b !== 0) for (let i = 0; i < n; i++) signal[i] += b * col[i]
    standardiseColumn(col, 0, n, x.subarray(j * n, (j + 1) * n))
  }

  let sum = 0
  let ss = 0
  for (let i = 0; i < n; i++) sum += signal[i]
  const mean = sum / n
  for (let i = 0; i < n; i++) ss += (signal[i] - mean) ** 2
  const sd = Math.sqrt(ss / n)
  const eps = noise * (sd > 0 ? sd : 1)
  for (let i = 0; i < n; i++) signal[i] += eps * gaussian(rand)
  sum = 0
  for (let i = 0; i < n; i++) sum += signal[i]
  const yMean = sum / n
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) y[i] = signal[i] - yMean
  return { name: `correlated-${n}x${p}`, n, p, x, y }
}

/** k coefficients at seeded distinct positions (partial Fisher–Yates), each ±(0.5..2); the rest 0. */
function trueBeta(rand: () => number, p: number, k: number): Float64Array {
  const order = new Int32Array(p)
  for (let j = 0; j < p; j++) order[j] = j
  const beta = new Float64Array(p)
  for (let t = 0; t < k; t++) {
    const s = t + Math.floor(rand() * (p - t))
    const j = order[s]
    order[s] = order[t]
    order[t] = j
    const magnitude = 0.5 + 1.5 * rand()
    beta[j] = rand() < 0.5 ? -magnitude : magnitude
  }
  return beta
}

/**
 * Fills `out` with standard Gaussians: Box–Muller as in model/random.ts `gaussian`, but keeping both the cosine and
 * the sine sample of each pair, which halves the logarithms and square roots in the generator's hot loop.
 */
function fillGaussian(rand: () => number, out: Float64Array): void {
  const len = out.length
  const TAU = 2 * Math.PI
  let i = 0
  for (; i + 1 < len; i += 2) {
    const m = Math.sqrt(-2 * Math.log(1 - rand()))
    const a = TAU * rand()
    out[i] = m * Math.cos(a)
    out[i + 1] = m * Math.sin(a)
  }
  if (i < len) out[i] = gaussian(rand)
}

/** Options of {@link parseRegressionCsv}. */
export interface RegressionCsvOptions {
  /** The target column: a header name, or a 0-based index; default the first column. */
  target?: string | number
  /** The data set's name; default 'csv'. */
  name?: string
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/

/**
 * Parses a regression CSV: a header row, then one row per sample. The target column is picked by name or index
 * (default the first); every other column is a numeric feature whose header is kept as its name. Blank lines are
 * skipped; fields may be double-quoted. The result is standardised.
 *
 * @throws Error naming the line and column of a non-numeric cell, the line of a ragged row, and on fewer than 2 data
 *   rows, no feature column or an unknown target.
 *
 * @example
 * const d = parseRegressionCsv('price,size,rooms\n3,50,2\n5,80,3\n4,60,3\n', { target: 'price' })
 * d.features // ['size', 'rooms']
 * [d.n, d.p] // [3, 2]
 */
export function parseRegressionCsv(text: string, opts: RegressionCsvOptions = {}): RegressionData {
  const name = opts.name ?? 'csv'
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  let at = 0
  while (at < lines.length && lines[at].trim() === '') at++
  if (at === lines.length) throw new Error(`${name}: empty CSV (no header row)`)
  const headerLine = at + 1
  const header = splitFields(lines[at], headerLine, name).map((h) => h.trim())
  const width = header.length
  const target = targetIndex(header, opts.target, name)
  if (width < 2) throw new Error(`${name} line ${headerLine}: no feature column besides the target "${header[target]}"`)

  const rows: number[][] = []
  for (let l = at + 1; l < lines.length; l++) {
    if (lines[l].trim() === '') continue
    const fields = splitFields(lines[l], l + 1, name)
    if (fields.length !== width) {
      throw new Error(`${name} line ${l + 1}: ${fields.length} fields, expected ${width} as in the header (line ${headerLine})`)
    }
    const row = new Array<number>(width)
    for (let c = 0; c < width; c++) {
      const cell = fields[c].trim()
      if (!NUMBER.test(cell)) {
        throw new Error(`${name} line ${l + 1}, column ${c + 1} ("${header[c]}"): ${JSON.stringify(cell)} is not a number`)
      }
      const v = Number(cell)
      if (!Number.isFinite(v)) {
        throw new Error(`${name} line ${l + 1}, column ${c + 1} ("${header[c]}"): ${cell} is out of range`)
      }
      row[c] = v
    }
    rows.push(row)
  }
  const n = rows.length
  if (n < 2) throw new Error(`${name}: ${n} data row${n === 1 ? '' : 's'}, a regression needs at least 2`)

  const p = width - 1
  const x = new Float64Array(n * p)
  const y = new Float64Array(n)
  const features: string[] = []
  for (let c = 0, j = 0; c < width; c++) {
    if (c === target) {
      for (let i = 0; i < n; i++) y[i] = rows[i][c]
      continue
    }
    features.push(header[c])
    for (let i = 0; i < n; i++) x[j * n + i] = rows[i][c]
    j++
  }
  return standardise(name, n, p, x, y, features)
}

/** The target's column index from a header name or a 0-based index; the first column when unset. */
function targetIndex(header: string[], target: string | number | undefined, name: string): number {
  if (target === undefined) return 0
  if (typeof target === 'number') {
    if (!Number.isInteger(target) || target < 0 || target >= header.length) {
      throw new Error(`${name}: target index ${target} is outside the ${header.length} columns`)
    }
    return target
  }
  const hits = header.flatMap((h, c) => (h === target ? [c] : []))
  if (hits.length === 0) throw new Error(`${name}: no column named "${target}" in the header (${header.join(', ')})`)
  if (hits.length > 1) throw new Error(`${name}: ${hits.length} columns are named "${target}"`)
  return hits[0]
}

/** Splits one CSV line on commas; a double-quoted field may hold commas and "" for a quote. */
function splitFields(line: string, lineNo: number, name: string): string[] {
  if (!line.includes('"')) return line.split(',')
  const fields: string[] = []
  let field = ''
  let quoted = false
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]
    if (quoted) {
      if (ch !== '"') field += ch
      else if (line[i + 1] === '"') {
        field += '"'
        i++
      } else quoted = false
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      fields.push(field)
      field = ''
    } else field += ch
  }
  if (quoted) throw new Error(`${name} line ${lineNo}: unterminated quoted field`)
  fields.push(field)
  return fields
}
