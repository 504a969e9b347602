import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { describe, expect, it } from 'vitest'
import { DatasetError, loadCsv, type Dataset } from '../../coordinator/data/index.ts'
import { tempDir } from './fixtures.ts'

const dir = await tempDir()
let files = 0

/** Writes text (or bytes) under a fresh name (or the given one) and returns the path. */
async function csv(text: string | Buffer, name = `data${++files}.csv`): Promise<string> {
  const file = join(dir, name)
  await writeFile(file, text)
  return file
}

async function csvError(file: string): Promise<string> {
  const e = await loadCsv(file).then(
    () => null,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(DatasetError)
  expect((e as DatasetError).code).toBe('ERR_DATASET')
  return (e as DatasetError).message
}

const rows = (x: Float32Array, J: number) =>
  Array.from({ length: x.length / J }, (_, i) => Array.from(x.subarray(i * J, (i + 1) * J)))

/** Per-feature mean and (population) standard deviation of a split. */
function moments(d: Dataset) {
  const r = rows(d.train.x, d.features)
  return Array.from({ length: d.features }, (_, j) => {
    const col = r.map((v) => v[j])
    const mean = col.reduce((a, b) => a + b, 0) / col.length
    const sd = Math.sqrt(col.reduce((a, b) => a + (b - mean) ** 2, 0) / col.length)
    return { mean, sd }
  })
}

/** n rows: label i % 3, then (i, 10 - 2i, 7) — the last feature is constant. */
const numeric = (n: number) => Array.from({ length: n }, (_, i) => `${i % 3},${i * 0.5},${10 - 2 * i},7`).join('\n') + '\n'

describe('loadCsv', () => {
  it('reads a headerless file, holds out a seeded 1/6 and standardises with train statistics', async () => {
    const file = await csv(numeric(12))
    const d = await loadCsv(file)
    expect(d).toMatchObject({ name: file.split('/').pop()!.replace('.csv', ''), source: `csv:${file}`, features: 3, classes: 3 })
    expect(d.labels).toEqual(['0', '1', '2'])
    expect(d.imageShape).toBeUndefined()
    expect([d.train.n, d.test.n]).toEqual([10, 2])
    for (const [j, m] of moments(d).entries()) {
      expect(Math.abs(m.mean)).toBeLessThan(1e-6)
      expect(m.sd).toBeCloseTo(j === 2 ? 0 : 1, 5) // the constant feature becomes 0
    }
    for (const r of rows(d.test.x, 3)) expect(r[2]).toBe(0)
    // every original row is in exactly one split: feature 0 standardised is an affine map of i
    const recovered = [...rows(d.train.x, 3), ...rows(d.test.x, 3)].map((r) => r[0])
    const order = recovered.map((v) => recovered.filter((w) => w < v).length).sort((a, b) => a - b)
    expect(order).toEqual(Array.from({ length: 12 }, (_, i) => i))
    expect(await loadCsv(file)).toEqual(d) // deterministic
    const other = await loadCsv(file, { seed: 9, testFraction: 0.25 })
    expect([other.train.n, other.test.n]).toEqual([9, 3])
  })

  it('keeps labels with their rows through the shuffle', async () => {
    const file = await csv(Array.from({ length: 30 }, (_, i) => `${i % 4},${i % 4},${(i % 4) * 2 + 1}`).join('\n'))
    const d = await loadCsv(file)
    for (const s of [d.train, d.test]) {
      const r = rows(s.x, 2)
      for (let i = 1; i < s.n; i++) expect(Math.sign(r[i][0] - r[0][0])).toBe(Math.sign(s.y[i] - s.y[0]))
    }
  })

  it('skips a header row, quoted fields, CRLF, a BOM and blank lines', async () => {
    const text = '\ufeff"label", "a","b"\r\n1,0.5,2\r\n\r\n  \r\n0,1.5,-3\r\n2,2.5,4e1\r\n1, 3.5 ,"5"\r\n0,-4.5,+6'
    const d = await loadCsv(await csv(text), { testFraction: 0.2 })
    expect([d.features, d.classes, d.train.n + d.test.n]).toEqual([2, 3, 5])
  })

  it('maps string labels to sorted names', async () => {
    const text = 'species,len\nsetosa,1\nvirginica,3\n"versicolor",2\nsetosa,1.1\nvirginica,3.2\nversicolor,2.1\n'
    const d = await loadCsv(await csv(text), { testFraction: 1 / 3 })
    expect(d.labels).toEqual(['setosa', 'versicolor', 'virginica'])
    expect(d.classes).toBe(3)
    // the single feature orders the classes: setosa < versicolor < virginica
    for (const s of [d.train, d.test]) {
      for (let i = 0; i < s.n; i++) for (let k = 0; k < s.n; k++) if (s.y[i] < s.y[k]) expect(s.x[i]).toBeLessThan(s.x[k])
    }
  })

  it('sorts numeric-looking string labels by value and keeps integer labels as class numbers', async () => {
    const signs = await loadCsv(await csv('1,0.1\n-1,0.2\n1,0.3\n-1,0.4\n10,0.5\n-1,0.6\n'))
    expect(signs.labels).toEqual(['-1', '1', '10'])
    const oneBased = await loadCsv(await csv('1,0.1\n3,0.2\n2,0.3\n3,0.4\n1,0.5\n2,0.6\n'))
    expect(oneBased.labels).toEqual(['0', '1', '2', '3'])
  })

  it('scales integer pixels in [0, 255] by 1/255 and calls a square image an image', async () => {
    const text = '3,0,128,255,17\n1,255,0,0,1\n3,12,13,14,15\n0,200,201,202,203\n'
    const d = await loadCsv(await csv(text), { testFraction: 0.25 })
    expect(d.imageShape).toEqual([2, 2])
    expect(d.classes).toBe(4)
    const all = [...d.train.x, ...d.test.x].sort((a, b) => a - b)
    const want = [0, 128, 255, 17, 255, 0, 0, 1, 12, 13, 14, 15, 200, 201, 202, 203].map((v) => Math.fround(v / 255)).sort((a, b) => a - b)
    expect(all).toEqual(want)
  })

  it('standardises 0/1 data and data with fractions or values above 255', async () => {
    for (const text of ['0,0,1\n1,1,0\n0,0,0\n1,1,1\n', '0,0.5,3\n1,1,255\n0,2,0\n1,3,1\n', '0,256,3\n1,1,2\n0,2,0\n1,3,1\n']) {
      const d = await loadCsv(await csv(text), { testFraction: 0.25 })
      expect(d.imageShape).toBeUndefined()
      for (const m of moments(d)) expect(Math.abs(m.mean)).toBeLessThan(1e-6)
    }
  })

  it('uses a sibling file with test for train as the test split, scaled by train statistics', async () => {
    const train = await csv('a,1\nb,2\na,3\nb,4\n', 'iris_train.csv')
    await csv('c,2.5\na,10\n', 'iris_test.csv')
    const d = await loadCsv(train)
    expect(d.name).toBe('iris_train')
    expect(d.labels).toEqual(['a', 'b', 'c'])
    expect([d.train.n, d.test.n]).toEqual([4, 2])
    expect(Array.from(d.train.y)).toEqual([0, 1, 0, 1]) // train keeps the file's order
    expect(Array.from(d.test.y)).toEqual([2, 0])
    const sd = Math.sqrt(1.25)
    expect(d.train.x[0]).toBeCloseTo((1 - 2.5) / sd, 6)
    expect(d.test.x[0]).toBeCloseTo(0, 6)
    expect(d.test.x[1]).toBeCloseTo((10 - 2.5) / sd, 5)
    const upper = await csv('0,1\n1,2\n', 'DIGITS_TRAIN.csv')
    await csv('1,1\n', 'DIGITS_TEST.csv')
    expect((await loadCsv(upper)).test.n).toBe(1)
  })

  it('rejects a sibling test file of another width', async () => {
    const train = await csv('0,1,2\n1,2,3\n', 'wide_train.csv')
    await csv('0,1\n', 'wide_test.csv')
    expect(await csvError(train)).toBe(`${join(dir, 'wide_test.csv')}: rows have 2 fields, but ${train} has 3`)
  })

  it('reads gzipped CSV', async () => {
    const file = await csv(gzipSync(numeric(6)), 'packed.csv.gz')
    const d = await loadCsv(file)
    expect([d.name, d.train.n + d.test.n]).toEqual(['packed', 6])
  })

  it('parses long, exponent and negative numbers exactly as Number() does', async () => {
    const values = ['0.1234567890123456789', '-1e-3', '12345678901234567', '-0.000000000000000001', '.5', '3.', '-7']
    await csv(`0,${values.map(() => 0).join(',')}\n`, 'num_test.csv')
    const d = await loadCsv(await csv(`0,${values.join(',')}\n1,${values.map((_, i) => i).join(',')}\n`, 'num_train.csv'))
    expect(d.train.n).toBe(2)
    // standardised from two rows: each feature becomes ±1 with the sign of (row 0 − row 1)
    for (let j = 0; j < values.length; j++) expect(d.train.x[j]).toBe(Math.sign(Number(values[j]) - j))
  })

  it('names the line of a ragged row', async () => {
    const short = await csv('label,a,b,c\n1,2,3,4\n5,6,7\n')
    expect(await csvError(short)).toBe(`${short} line 3: expected 4 fields, got 3`)
    const long = await csv('1,2,3,4\n\n5,6,7,8,9\n')
    expect(await csvError(long)).toBe(`${long} line 3: expected 4 fields, got 5`)
    const trailing = await csv('1,2,3\n4,5,6,\n')
    expect(await csvError(trailing)).toMatch(/line 2: expected 3 fields, got 4$/)
    const lone = await csv('1,2\n3\n')
    expect(await csvError(lone)).toMatch(/line 2: expected 2 fields, got 1$/)
  })

  it('names line and column of a value that is not a finite number', async () => {
    const bad = await csv('1,2,3\n4,5,abc\n')
    expect(await csvError(bad)).toBe(`${bad} line 2, column 3: "abc" is not a number`)
    expect(await csvError(await csv('1,2,3\n4,,6\n'))).toMatch(/line 2, column 2: empty field$/)
    expect(await csvError(await csv('1,2,3\n4,NaN,6\n'))).toMatch(/line 2, column 2: "NaN" is not a number$/)
    expect(await csvError(await csv('1,2,3\n4,5,-Infinity\n'))).toMatch(/line 2, column 3: -Infinity is not a finite float32$/)
    expect(await csvError(await csv('1,2,3\n4,5,1e39\n'))).toMatch(/line 2, column 3: 1e39 is not a finite float32$/)
    expect(await csvError(await csv('1,2,3\n4,"5,6\n'))).toMatch(/line 2: unterminated quoted field$/)
    expect(await csvError(await csv('1,2,3\n ,5,6\n'))).toMatch(/line 2, column 1: empty label$/)
    expect(await csvError(await csv('"",2,3\n1,5,6\n'))).toMatch(/line 1, column 1: empty label$/)
  })

  it('rejects empty files, header-only files, label-only rows and too few rows to split', async () => {
    const empty = await csv('')
    expect(await csvError(empty)).toBe(`${empty}: empty file (no rows)`)
    expect(await csvError(await csv('\n \n'))).toMatch(/: empty file \(no rows\)$/)
    const header = await csv('label,x,y\n')
    expect(await csvError(header)).toBe(`${header}: no data rows after the header`)
    expect(await csvError(await csv('1\n2\n'))).toMatch(/line 1: expected a label and at least one feature, got 1 field$/)
    expect(await csvError(await csv('1,2\n'))).toMatch(/1 data row is too few to hold out a test split$/)
    expect(await csvError(join(dir, 'absent.csv'))).toBe(`${join(dir, 'absent.csv')}: cannot read: no such file`)
    await expect(loadCsv(await csv(numeric(6)), { testFraction: 1 })).rejects.toThrow(/testFraction must be between 0 and 1, got 1/)
  })

  it('rejects more than 256 classes', async () => {
    const text = Array.from({ length: 300 }, (_, i) => `c${i},${i}`).join('\n')
    expect(await csvError(await csv(text))).toMatch(/300 distinct labels; at most 256 classes are supported$/)
  })
})
