// What data an operator can start a job on: the built-in sets, and the data files found under the data roots.
import { readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { DataCatalog } from '../../protocol/operator.ts'

export const BUILTIN_DATA: DataCatalog['builtin'] = [
  { spec: 'builtin', app: 'sgd', description: 'synthetic 28×28 digits, 10 classes (generated, no download)' },
  { spec: 'correlated:500x2000', app: 'lasso', description: 'a generated regression: 500 samples, 2,000 features in correlated blocks' },
  { spec: 'correlated', app: 'lasso', description: 'a generated regression: 2,000 samples, 10,000 features in correlated blocks' },
]

const IDX = /(-ubyte|\.idx\d?-ubyte)(\.gz)?$/i
const CSV = /\.csv(\.gz)?$/i
/** How deep and how far the walk goes: a data root is a folder of data sets, not a disk to index. */
const MAX_DEPTH = 4
const MAX_ENTRIES = 2000
const MAX_FILES = 500

/**
 * The data sets under `roots`: every CSV (either app: SGD takes the label in the first column, Lasso a target
 * column) and every folder holding IDX files (SGD), at most MAX_DEPTH folders down. Hidden names are skipped.
 *
 * @example
 * (await findDataFiles(['/srv/data'])).map((f) => f.spec) // ['csv:/srv/data/iris.csv', 'idx:/srv/data/mnist']
 */
export async function findDataFiles(roots: readonly string[]): Promise<DataCatalog['files']> {
  const out: DataCatalog['files'] = []
  let seen = 0
  const walk = async (dir: string, depth: number): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => [])
    let idxBytes = 0
    for (const e of entries) {
      if (++seen > MAX_ENTRIES || out.length >= MAX_FILES) return
      if (e.name.startsWith('.')) continue
      const path = join(dir, e.name)
      if (e.isDirectory()) {
        if (depth < MAX_DEPTH) await walk(path, depth + 1)
        continue
      }
      if (!e.isFile()) continue
      const size = (await stat(path).catch(() => null))?.size ?? 0
      if (CSV.test(e.name)) out.push({ spec: `csv:${path}`, app: 'both', path, bytes: size })
      else if (IDX.test(e.name)) idxBytes += size
    }
    if (idxBytes > 0) out.push({ spec: `idx:${dir}`, app: 'sgd', path: dir, bytes: idxBytes })
  }
  for (const r of new Set(roots)) await walk(r, 0)
  return out
}
