import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtinDataset, DatasetError, loadDataset } from '../../coordinator/data/index.ts'
import { mulberry32 } from '../helpers/random.ts'
import { randomIdxSet, sameBytes, tempDir, writeIdxSet } from './fixtures.ts'

describe('loadDataset', async () => {
  const dir = await tempDir()

  it('loads the built-in set, whole or cut to trainLimit', async () => {
    const full = builtinDataset()
    const whole = await loadDataset('builtin')
    expect({ ...whole, train: null, test: null }).toEqual({ ...full, train: null, test: null })
    expect(sameBytes(whole.train.x, full.train.x) && sameBytes(whole.test.x, full.test.x)).toBe(true)
    const cut = await loadDataset(' builtin ', { trainLimit: 500 })
    expect(cut.train.n).toBe(500)
    expect(sameBytes(cut.train.x, full.train.x.subarray(0, 500 * 784))).toBe(true)
    expect(sameBytes(cut.train.y, full.train.y.subarray(0, 500))).toBe(true)
    expect(sameBytes(cut.test.x, full.test.x)).toBe(true)
    expect((await loadDataset('builtin', { trainLimit: 10_000 })).train.n).toBe(6000)
  })

  it('dispatches idx:DIR and csv:FILE', async () => {
    await writeIdxSet(dir, randomIdxSet(mulberry32(5), 6, 3))
    const idx = await loadDataset(`idx:${dir}`, { trainLimit: 4 })
    expect([idx.name, idx.source, idx.train.n, idx.test.n]).toEqual(['mnist-idx', `idx:${dir}`, 4, 3])
    const file = join(dir, 'tiny.csv')
    await writeFile(file, 'y,a\n0,1\n1,2\n0,3\n1,4\n0,5\n1,6\n')
    const csv = await loadDataset(`csv:${file}`)
    expect([csv.name, csv.source, csv.train.n, csv.test.n]).toEqual(['tiny', `csv:${file}`, 5, 1])
  })

  it('rejects an unknown spec, listing the accepted forms', async () => {
    const e = await loadDataset('mnist').catch((err: unknown) => err)
    expect(e).toBeInstanceOf(DatasetError)
    expect(e).toMatchObject({ code: 'ERR_DATASET', name: 'DatasetError' })
    expect((e as Error).message).toBe(
      'unknown dataset "mnist": use builtin, idx:DIR (MNIST IDX files, optionally .gz) or csv:FILE (label in the first column)',
    )
    await expect(loadDataset('idx:')).rejects.toThrow('dataset "idx:": the directory is missing after "idx:"')
    await expect(loadDataset('csv: ')).rejects.toThrow(/the file is missing after "csv:"/)
    await expect(loadDataset('builtin', { trainLimit: 0 })).rejects.toThrow(/trainLimit must be a positive integer, got 0/)
    await expect(loadDataset('builtin', { trainLimit: 1.5 })).rejects.toThrow(DatasetError)
  })
})
