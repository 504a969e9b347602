// forward.wgsl against model/mlr.ts forward, on shapes that are and are not multiples of the workgroup size.
import { describe, expect, it } from 'vitest'
import { ForwardKernel } from '../../client/gpu/forward-kernel.ts'
import { Recorder } from '../../client/gpu/recorder.ts'
import { forward } from '../../model/mlr.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, packModel, randomFloats, rng, storage, upload } from './util.ts'

const device = await testDevice()
const kernel = new ForwardKernel(device)

describe('forward.wgsl', () => {
  it.each([
    { K: 10, J: 784, rows: 8, row0: 0, n: 8 },
    { K: 3, J: 5, rows: 1, row0: 2, n: 4 },
    { K: 7, J: 129, rows: 33, row0: 5, n: 40 },
    { K: 10, J: 20, rows: 300, row0: 17, n: 320 },
  ])('matches the reference for K=$K J=$J rows=$rows row0=$row0', async ({ K, J, rows, row0, n }) => {
    const rand = rng(K * 1000 + J + rows)
    const p = { W: randomFloats(rand, K * J, -0.1, 0.1), b: randomFloats(rand, K) }
    const X = randomFloats(rand, n * J, 0, 1)
    const logits = await withErrorScope(device, async () => {
      const out = storage(device, 'logits', rows * K)
      const r = new Recorder(device, 'test')
      kernel.record(r, { x: upload(device, 'x', X), model: upload(device, 'model', packModel(p.W, p.b)), logits: out }, { row0, rows, K, J })
      r.submit()
      return download(device, out, rows * K)
    })
    expectClose(logits, forward({ K, J }, p, X, row0, rows))
  })

  it('leaves the logits past rows untouched', async () => {
    const K = 3
    const J = 4
    const sentinel = new Float32Array(4 * K).fill(42)
    const out = upload(device, 'logits', sentinel)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      kernel.record(r, { x: storage(device, 'x', 4 * J), model: storage(device, 'model', K * J + K), logits: out }, { row0: 0, rows: 2, K, J })
      r.submit()
    })
    const got = await download(device, out, 4 * K)
    expect(Array.from(got.subarray(0, 2 * K))).toEqual(new Array(2 * K).fill(0))
    expect(Array.from(got.subarray(2 * K))).toEqual(new Array(2 * K).fill(42))
  })
})
