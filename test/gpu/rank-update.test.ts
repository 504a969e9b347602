// rank_update.wgsl against model/mlr.ts applyFactors: in place on a model, and into a zeroed buffer (dense form).
import { describe, it } from 'vitest'
import { RankUpdateKernel } from '../../client/gpu/rank-update-kernel.ts'
import { Recorder } from '../../client/gpu/recorder.ts'
import { applyFactors, factorsToDense } from '../../model/mlr.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, packModel, randomFloats, rng, storage, upload } from './util.ts'

const device = await testDevice()
const kernel = new RankUpdateKernel(device)

describe('rank_update.wgsl', () => {
  it.each([
    { K: 10, J: 784, rows: 8, v0: 0, n: 8 },
    { K: 3, J: 5, rows: 1, v0: 0, n: 1 },
    { K: 7, J: 129, rows: 33, v0: 6, n: 41 },
    { K: 2, J: 63, rows: 100, v0: 3, n: 103 },
  ])('adds UᵀV and ΣU for K=$K J=$J rows=$rows v0=$v0', async ({ K, J, rows, v0, n }) => {
    const rand = rng(K * 7 + J * 13 + rows)
    const p = { W: randomFloats(rand, K * J), b: randomFloats(rand, K) }
    const U = randomFloats(rand, rows * K, -0.05, 0.05)
    const V = randomFloats(rand, n * J, 0, 1)
    const model = upload(device, 'model', packModel(p.W, p.b))
    const dense = storage(device, 'dense', K * J + K)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      const b = { U: upload(device, 'U', U), V: upload(device, 'V', V) }
      kernel.record(r, { ...b, model }, { K, J, rows, v0 })
      kernel.record(r, { ...b, model: dense }, { K, J, rows, v0 })
      r.submit()
    })
    const d = factorsToDense({ K, J }, U, V, v0, rows)
    expectClose(await download(device, dense, K * J + K), packModel(d.W, d.b))
    applyFactors({ K, J }, p, U, V, v0, rows)
    expectClose(await download(device, model, K * J + K), packModel(p.W, p.b))
  })
})
