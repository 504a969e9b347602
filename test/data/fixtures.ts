// Test helpers for datasets: temp directories and IDX files built byte by byte.
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll } from 'vitest'

/** A fresh temp directory, removed after the suite's tests; call it at file or describe level, not inside a test. */
export async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'tabgrid-data-'))
  afterAll(() => rm(dir, { recursive: true, force: true }))
  return dir
}

/** True when two typed arrays hold the same bytes (far faster than toEqual on millions of elements). */
export function sameBytes(a: ArrayBufferView, b: ArrayBufferView): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength))
}

/** An IDX file: magic 0x0000TTRR, big-endian dims, then the data bytes. */
export function idxBytes(dims: number[], data: ArrayLike<number>, type = 0x08): Buffer {
  const head = Buffer.alloc(4 + 4 * dims.length)
  head[2] = type
  head[3] = dims.length
  dims.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i))
  return Buffer.concat([head, Buffer.from(Uint8Array.from(data))])
}

export interface IdxSet {
  rows: number
  cols: number
  train: { images: Uint8Array; labels: Uint8Array }
  test: { images: Uint8Array; labels: Uint8Array }
}

/** A small random IDX data set: nTrain/nTest images of rows×cols, labels below `classes`. */
export function randomIdxSet(rand: () => number, nTrain: number, nTest: number, rows = 4, cols = 3, classes = 5): IdxSet {
  const part = (n: number) => ({
    images: Uint8Array.from({ length: n * rows * cols }, () => Math.floor(rand() * 256)),
    labels: Uint8Array.from({ length: n }, (_, i) => (i < classes ? i : Math.floor(rand() * classes))),
  })
  return { rows, cols, train: part(nTrain), test: part(nTest) }
}

/** Writes the four MNIST-named files of a set into dir, optionally gzipped and/or with the dotted spelling. */
export async function writeIdxSet(dir: string, s: IdxSet, opts: { gzip?: boolean; dotted?: boolean } = {}): Promise<void> {
  const files: Array<[string, Buffer]> = [
    ['train-images-idx3-ubyte', idxBytes([s.train.labels.length, s.rows, s.cols], s.train.images)],
    ['train-labels-idx1-ubyte', idxBytes([s.train.labels.length], s.train.labels)],
    ['t10k-images-idx3-ubyte', idxBytes([s.test.labels.length, s.rows, s.cols], s.test.images)],
    ['t10k-labels-idx1-ubyte', idxBytes([s.test.labels.length], s.test.labels)],
  ]
  for (const [name, bytes] of files) {
    const file = (opts.dotted ? name.replace(/-(idx\d-ubyte)$/, '.$1') : name) + (opts.gzip ? '.gz' : '')
    await writeFile(join(dir, file), opts.gzip ? gzipSync(bytes) : bytes)
  }
}
