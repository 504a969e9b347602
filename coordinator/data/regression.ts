// Loading a Lasso job's regression set from its spec: the built-in correlated generator or a CSV with a target column.
import { correlatedData, parseRegressionCsv, standardise } from '../../apps/lasso/data.ts'
import type { RegressionData } from '../../apps/lasso/types.ts'
import { readDataFile } from './files.ts'
import type { Confine } from './roots.ts'
import { DatasetError } from './types.ts'

/** The accepted regression specs, in words (error messages, CLI help). */
export const REGRESSION_FORMS = 'correlated (2,000 × 10,000, blocks of correlated features), correlated:NxP, or csv:FILE (a header row; --target names the target column, default the first)'

/** Largest n·p a regression set may have (floats held by the coordinator, and served to workers by block). */
export const MAX_REGRESSION_FLOATS = 256 * 1024 * 1024

export interface RegressionOptions {
  /** The target column of a CSV: a header name or a 0-based index; default the first column. */
  target?: string | number
  /** Keep only the first N samples. */
  trainLimit?: number
  /** Read files only where this lets (DataRoots.confine). */
  confine?: Confine
}

/**
 * A regression set by spec, standardised (features mean 0 and unit norm, target centred). Throws DatasetError with a
 * message for people on an unknown spec, a file it cannot read or parse, or a set over the size limit.
 *
 * @example
 * const d = await loadRegression('correlated:500x2000') // 500 samples, 2,000 features
 * const h = await loadRegression('csv:data/houses.csv', { target: 'price' })
 */
export async function loadRegression(spec: string, opts: RegressionOptions = {}): Promise<RegressionData> {
  const s = spec.trim()
  const limit = opts.trainLimit
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 1)) throw new DatasetError(`trainLimit must be an integer above 1, got ${limit}`)
  const sized = /^correlated(?::(\d+)x(\d+))?$/i.exec(s)
  if (sized) {
    const n = sized[1] ? Number(sized[1]) : 2000
    const p = sized[2] ? Number(sized[2]) : 10_000
    if (n < 2 || p < 1) throw new DatasetError(`dataset "${s}": needs at least 2 samples and 1 feature`)
    if (n * p > MAX_REGRESSION_FLOATS) throw new DatasetError(`dataset "${s}": ${n} × ${p} is over the limit of ${MAX_REGRESSION_FLOATS} values`)
    return correlatedData({ n: Math.min(n, limit ?? n), p })
  }
  const csv = /^csv:(.+)$/s.exec(s)
  if (!csv) throw new DatasetError(`unknown regression dataset "${s}": use ${REGRESSION_FORMS}`)
  const file = opts.confine ? await opts.confine(csv[1]) : csv[1]
  const text = (await readDataFile(file)).toString('utf8')
  let d: RegressionData
  try {
    d = parseRegressionCsv(text, { ...(opts.target !== undefined ? { target: opts.target } : {}), name: `csv:${file.split('/').pop()}` })
  } catch (e) {
    throw new DatasetError((e as Error).message)
  }
  if (d.n * d.p > MAX_REGRESSION_FLOATS) throw new DatasetError(`${file}: ${d.n} × ${d.p} is over the limit of ${MAX_REGRESSION_FLOATS} values`)
  return limit !== undefined && limit < d.n ? headSamples(d, limit) : d
}

/**
 * The first `n` samples, standardised again from the raw values the scaling records (so the kept rows have mean 0 and
 * unit norm themselves).
 */
function headSamples(d: RegressionData, n: number): RegressionData {
  const sc = d.scaling
  const x = new Float64Array(n * d.p)
  for (let j = 0; j < d.p; j++) {
    const scale = sc ? sc.xNorm[j] : 1
    const mean = sc ? sc.xMean[j] : 0
    for (let i = 0; i < n; i++) x[j * n + i] = d.x[j * d.n + i] * scale + mean
  }
  const y = Array.from(d.y.subarray(0, n), (v) => v + (sc?.yMean ?? 0))
  return standardise(d.name, n, d.p, x, y, d.features)
}

/** The spec with a CSV path replaced by its real path inside the roots (the generator's specs as they are). */
export async function confineRegressionSpec(spec: string, confine: Confine): Promise<string> {
  const s = spec.trim()
  const csv = /^csv:(.+)$/s.exec(s)
  return csv ? `csv:${await confine(csv[1])}` : s
}
