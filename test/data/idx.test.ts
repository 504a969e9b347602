import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DatasetError, loadIdx, parseIdx } from '../../coordinator/data/index.ts'
import { mulberry32 } from '../helpers/random.ts'
import { idxBytes, randomIdxSet, tempDir, writeIdxSet, type IdxSet } from './fixtures.ts'

const set = randomIdxSet(mulberry32(11), 7, 5)

function expectSame(d: Awaited<ReturnType<typeof loadIdx>>, s: IdxSet) {
  expect(d).toMatchObject({ name: 'mnist-idx', features: 12, classes: 5, imageShape: [4, 3] })
  expect(d.labels).toEqual(['0', '1', '2', '3', '4'])
  for (const [split, want] of [[d.train, s.train], [d.test, s.test]] as const) {
    expect(split.n).toBe(want.labels.length)
    expect(Array.from(split.y)).toEqual(Array.from(want.labels))
    expect(Array.from(split.x)).toEqual(Array.from(want.images, (v) => Math.fround(v / 255)))
  }
}

/** A directory holding the set, with `name` replaced by `bytes` (or removed when bytes is null). */
async function dirWith(root: string, tag: string, name: string, bytes: Buffer | null): Promise<string> {
  const dir = join(root, tag)
  await mkdir(dir)
  await writeIdxSet(dir, set)
  if (bytes) await writeFile(join(dir, name), bytes)
  else await rm(join(dir, name))
  return dir
}

async function loadError(dir: string): Promise<DatasetError> {
  const e = await loadIdx(dir).then(
    () => null,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DatasetError)
  expect((e as DatasetError).code).toBe('ERR_DATASET')
  return e as DatasetError
}

describe('loadIdx', async () => {
  const root = await tempDir()

  it('round-trips raw files exactly', async () => {
    const dir = join(root, 'raw')
    await mkdir(dir)
    await writeIdxSet(dir, set)
    const d = await loadIdx(dir)
    expectSame(d, set)
    expect(d.source).toBe(`idx:${dir}`)
  })

  it('round-trips gzipped files and the dotted spelling', async () => {
    for (const [tag, opts] of [['gz', { gzip: true }], ['dotted', { dotted: true }], ['dotted-gz', { gzip: true, dotted: true }]] as const) {
      const dir = join(root, tag)
      await mkdir(dir)
      await writeIdxSet(dir, set, opts)
      expectSame(await loadIdx(dir), set)
    }
  })

  it('recognises gzip by its magic bytes when the name has no .gz', async () => {
    const bytes = idxBytes([set.test.labels.length], set.test.labels)
    const dir = await dirWith(root, 'magic', 't10k-labels-idx1-ubyte', gzipSync(bytes))
    expectSame(await loadIdx(dir), set)
  })

  it('takes classes from the largest label', async () => {
    const s = randomIdxSet(mulberry32(3), 4, 2, 2, 2, 3)
    s.test.labels[1] = 9
    const dir = join(root, 'classes')
    await mkdir(dir)
    await writeIdxSet(dir, s)
    const d = await loadIdx(dir)
    expect(d.classes).toBe(10)
    expect(d.labels).toHaveLength(10)
  })

  it('names every missing file', async () => {
    const dir = await dirWith(root, 'missing', 't10k-labels-idx1-ubyte', null)
    expect((await loadError(dir)).message).toBe(`idx:${dir}: missing t10k-labels-idx1-ubyte(.gz)`)
    const empty = join(root, 'empty')
    await mkdir(empty)
    expect((await loadError(empty)).message).toMatch(/missing train-images-idx3-ubyte\(\.gz\), train-labels-idx1-ubyte\(\.gz\), t10k-images/)
    expect((await loadError(join(root, 'nowhere'))).message).toMatch(/nowhere: no such directory$/)
  })

  it('rejects a bad magic number, naming file and expectation', async () => {
    const labelsAsImages = idxBytes([7], set.train.labels) // 0x00000801 where images belong
    const dir = await dirWith(root, 'magic-bad', 'train-images-idx3-ubyte', labelsAsImages)
    expect((await loadError(dir)).message).toBe(
      `${join(dir, 'train-images-idx3-ubyte')}: bad magic 0x00000801, expected 0x00000803 (IDX unsigned-byte 3-D images)`,
    )
    const two = idxBytes([7, 12], set.train.images)
    const dir2 = await dirWith(root, 'magic-2d', 'train-images-idx3-ubyte', two)
    expect((await loadError(dir2)).message).toMatch(/bad magic 0x00000802, expected 0x00000803/)
    const text = await dirWith(root, 'magic-text', 't10k-labels-idx1-ubyte', Buffer.from('hello world'))
    expect((await loadError(text)).message).toMatch(/t10k-labels-idx1-ubyte: bad magic 0x68656c6c, expected 0x00000801 \(IDX unsigned-byte 1-D labels\)/)
  })

  it('rejects data types other than unsigned byte', async () => {
    const floats = idxBytes([7], new Uint8Array(28), 0x0d)
    const dir = await dirWith(root, 'float', 'train-labels-idx1-ubyte', floats)
    expect((await loadError(dir)).message).toMatch(/train-labels-idx1-ubyte: data type 0x0d \(float32\); only unsigned byte \(0x08\) is supported/)
  })

  it('rejects truncated files and trailing bytes', async () => {
    const full = idxBytes([7, 4, 3], set.train.images)
    const dir = await dirWith(root, 'trunc', 'train-images-idx3-ubyte', full.subarray(0, full.length - 5))
    expect((await loadError(dir)).message).toMatch(/train-images-idx3-ubyte: truncated: the header says 7×4×3 = 84 data bytes, the file has 79/)
    const head = await dirWith(root, 'trunc-head', 'train-images-idx3-ubyte', full.subarray(0, 10))
    expect((await loadError(head)).message).toMatch(/truncated: 10 bytes, the header alone needs 16/)
    const tiny = await dirWith(root, 'trunc-tiny', 'train-labels-idx1-ubyte', Buffer.from([0, 0]))
    expect((await loadError(tiny)).message).toMatch(/train-labels-idx1-ubyte: truncated: 2 bytes/)
    const long = await dirWith(root, 'trailing', 'train-images-idx3-ubyte', Buffer.concat([full, Buffer.from([1, 2])]))
    expect((await loadError(long)).message).toMatch(/trailing bytes: the header says 7×4×3 = 84 data bytes, the file has 86/)
  })

  it('rejects image and label counts that disagree', async () => {
    const dir = await dirWith(root, 'count', 't10k-labels-idx1-ubyte', idxBytes([4], set.test.labels.subarray(0, 4)))
    expect((await loadError(dir)).message).toMatch(/t10k-labels-idx1-ubyte: 4 labels, but .*t10k-images-idx3-ubyte holds 5 images/)
  })

  it('rejects train and test images of different shapes', async () => {
    const dir = await dirWith(root, 'shape', 't10k-images-idx3-ubyte', idxBytes([5, 3, 4], set.test.images))
    expect((await loadError(dir)).message).toMatch(/train images are 4×3 but test images are 3×4/)
  })

  it('rejects a corrupt gzip file', async () => {
    const gz = gzipSync(idxBytes([7], set.train.labels))
    const dir = await dirWith(root, 'badgz', 'train-labels-idx1-ubyte', null)
    await writeFile(join(dir, 'train-labels-idx1-ubyte.gz'), gz.subarray(0, gz.length - 6))
    expect((await loadError(dir)).message).toMatch(/train-labels-idx1-ubyte\.gz: not a valid gzip file/)
  })
})

describe('parseIdx', () => {
  it('returns the dims and a view of the data', () => {
    const a = parseIdx(idxBytes([2, 3], [1, 2, 3, 4, 5, 6]), 2, 'x', '2-D')
    expect(a.dims).toEqual([2, 3])
    expect(Array.from(a.data)).toEqual([1, 2, 3, 4, 5, 6])
  })
})
