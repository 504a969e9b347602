// Loading a CSV file (label first, features after) as a Dataset, with a held-out or sibling test split.
import { stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import { parseCsvTable, type CsvTable } from './csv-table.ts'
import { readDataFile } from './files.ts'
import { buildLabelMap } from './labels.ts'
import { normalise } from './normalise.ts'
import { mulberry32, permutation } from './random.ts'
import type { Confine } from './roots.ts'
import { takeRows } from './split.ts'
import { DatasetError, type Dataset, type Split } from './types.ts'

export interface CsvOptions {
  /** Share of the rows held out as the test split when there is no sibling test file; default 1/6. */
  testFraction?: number
  /** Seed of the hold-out shuffle; default 1. */
  seed?: number
  /** Read the sibling test file only where this lets (DataRoots.confine). */
  confine?: Confine
}

/**
 * Loads a CSV whose first column is the label (a class number or a name) and whose other columns are numbers; a
 * header row is detected and skipped. When a sibling file named with `test` for `train` exists
 * (mnist_train.csv → mnist_test.csv) it is the test split and the train rows keep their order; otherwise a seeded
 * shuffle holds out `testFraction` of the rows. Pixel bytes are scaled to [0, 1], other features standardised.
 *
 * @example
 * const iris = await loadCsv('iris.csv', { testFraction: 0.2 })   // labels ['setosa', 'versicolor', 'virginica']
 */
export async function loadCsv(file: string, opts: CsvOptions = {}): Promise<Dataset> {
  const testFraction = opts.testFraction ?? 1 / 6
  if (!(testFraction > 0 && testFraction < 1)) {
    throw new DatasetError(`csv:${file}: testFraction must be between 0 and 1, got ${testFraction}`)
  }
  const sibling = await siblingTestFile(file, opts.confine)
  const [trainTable, testTable] = await Promise.all([readTable(file), sibling ? readTable(sibling) : null])
  const J = trainTable.width
  if (testTable && testTable.width !== J) {
    throw new DatasetError(`${sibling}: rows have ${testTable.width + 1} fields, but ${file} has ${J + 1}`)
  }
  const map = buildLabelMap(testTable ? [...trainTable.labels, ...testTable.labels] : trainTable.labels, file)
  const classOf = (t: CsvTable) => Uint8Array.from(t.labels, (s) => map.indexOf(s))

  let train: Split
  let test: Split
  if (testTable) {
    train = { n: trainTable.rows, x: trainTable.values, y: classOf(trainTable) }
    test = { n: testTable.rows, x: testTable.values, y: classOf(testTable) }
  } else {
    const n = trainTable.rows
    if (n < 2) throw new DatasetError(`${file}: ${n} data row is too few to hold out a test split`)
    const nTest = Math.min(n - 1, Math.max(1, Math.round(n * testFraction)))
    const order = permutation(n, mulberry32(opts.seed ?? 1))
    const y = classOf(trainTable)
    test = takeRows(trainTable.values, y, J, order.subarray(0, nTest))
    train = takeRows(trainTable.values, y, J, order.subarray(nTest))
  }
  const allBytes = trainTable.allBytes && (testTable?.allBytes ?? true)
  const max = Math.max(trainTable.max, testTable?.max ?? -Infinity)
  const preprocessing = normalise(train.x, test.x, J, allBytes, max)
  const side = Math.round(Math.sqrt(J))
  return {
    name: basename(file).replace(/(\.csv)?(\.gz)?$/i, ''),
    source: `csv:${file}`,
    features: J,
    classes: map.names.length,
    labels: map.names,
    ...(preprocessing.kind === 'pixels' && side * side === J && side > 1 ? { imageShape: [side, side] as [number, number] } : {}),
    preprocessing,
    train,
    test,
  }
}

async function readTable(file: string): Promise<CsvTable> {
  return parseCsvTable(await readDataFile(file), file)
}

/**
 * The file named like `file` with its last `train` replaced by `test` (same case), when it exists; with `confine`,
 * the real path it leads to, which must be inside the roots.
 */
export async function siblingTestFile(file: string, confine?: Confine): Promise<string | null> {
  const base = basename(file)
  const m = /.*(train)/i.exec(base)
  if (!m) return null
  const word = m[1]
  const test = word === 'TRAIN' ? 'TEST' : word[0] === 'T' ? 'Test' : 'test'
  const at = m[0].length - word.length
  const named = join(dirname(file), base.slice(0, at) + test + base.slice(at + word.length))
  const candidate = confine ? await confine(named) : named
  try {
    return (await stat(candidate)).isFile() ? candidate : null
  } catch {
    return null // no sibling: hold out a split instead
  }
}
