// col_sums.wgsl against model/layers/matmul.ts columnSums: one pass and two (many rows), offsets, β = 0 and 1.
import { describe, it } from 'vitest'
import { ColSumsKernel } from '../../client/gpu/col-sums-kernel.ts'
import { columnSums } from '../../model/layers/matmul.ts'
import { testDevice } from './device.ts'
import { download, expectClose, randomFloats, record, rng, upload } from './util.ts'

const device = await testDevice()
const kernel = new ColSumsKernel(device)

describe('col_sums.wgsl', () => {
  it.each([
    { rows: 1, cols: 1 },
    { rows: 33, cols: 17 },
    { rows: 300, cols: 130 },
    { rows: 18_000, cols: 8 }, // a conv layer's bias gradient: rows·outH·outW rows, split across workgroups
    { rows: 5000, cols: 1 },
  ])('sums rows=$rows × cols=$cols', async ({ rows, cols }) => {
    for (const beta of [0, 1]) {
      const rand = rng(rows + cols + beta)
      const inOff = 5
      const outOff = 3
      const X = randomFloats(rand, inOff + rows * cols)
      const old = randomFloats(rand, outOff + cols + 2)
      if (beta === 0) old.fill(NaN, outOff, outOff + cols)
      const out = upload(device, 'out', old)
      await record(device, (r) => kernel.record(r, { buffer: upload(device, 'X', X), offset: inOff }, { buffer: out, offset: outOff }, { rows, cols, beta }))
      const sums = columnSums(X.subarray(inOff), rows, cols)
      const ref = old.slice()
      for (let j = 0; j < cols; j++) ref[outOff + j] = sums[j] + (beta ? old[outOff + j] : 0)
      // f32 partial sums of ±1 values: a few ulps of √rows.
      expectClose(await download(device, out, old.length), ref, 1e-3, 1e-4)
    }
  })
})
