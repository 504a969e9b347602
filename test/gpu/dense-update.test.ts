// dense_update.wgsl against model/mlr.ts applyDense, including a size that needs a 2D dispatch grid.
import { describe, it } from 'vitest'
import { DenseUpdateKernel } from '../../client/gpu/dense-update-kernel.ts'
import { Recorder } from '../../client/gpu/recorder.ts'
import { applyDense } from '../../model/mlr.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, packModel, randomFloats, rng, upload } from './util.ts'

const device = await testDevice()
const kernel = new DenseUpdateKernel(device)

describe('dense_update.wgsl', () => {
  it.each([
    { K: 10, J: 784 },
    { K: 3, J: 5 },
    { K: 7, J: 129 },
    // 65535 workgroups of 64 hold 4 194 240 invocations: this one needs wid.y > 0.
    { K: 2, J: 2_100_000 },
  ])('adds dW and db for K=$K J=$J', async ({ K, J }) => {
    const rand = rng(K + J)
    const p = { W: randomFloats(rand, K * J), b: randomFloats(rand, K) }
    const d = { W: randomFloats(rand, K * J), b: randomFloats(rand, K) }
    const model = upload(device, 'model', packModel(p.W, p.b))
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      kernel.record(r, { delta: upload(device, 'delta', packModel(d.W, d.b)), model }, K * J + K)
      r.submit()
    })
    applyDense(p, d.W, d.b)
    expectClose(await download(device, model, K * J + K), packModel(p.W, p.b))
  })
})
