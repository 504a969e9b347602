// softmax_grad.wgsl against model/mlr.ts softmaxGrad: factors, loss and correct, with large logits too.
import { describe, it } from 'vitest'
import { Recorder } from '../../client/gpu/recorder.ts'
import { SoftmaxGradKernel } from '../../client/gpu/softmax-grad-kernel.ts'
import { softmaxGrad } from '../../model/mlr.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, randomFloats, randomLabels, rng, storage, upload } from './util.ts'

const device = await testDevice()
const kernel = new SoftmaxGradKernel(device)

describe('softmax_grad.wgsl', () => {
  it.each([
    { K: 10, rows: 8, row0: 0, n: 8, spread: 5, scale: -0.1 / 8 },
    { K: 3, rows: 1, row0: 3, n: 4, spread: 5, scale: 1 },
    { K: 7, rows: 33, row0: 5, n: 40, spread: 5, scale: -0.5 },
    { K: 10, rows: 65, row0: 1, n: 70, spread: 200, scale: 0.01 },
    { K: 1, rows: 3, row0: 0, n: 3, spread: 1, scale: 1 },
  ])('matches the reference for K=$K rows=$rows row0=$row0 logits ±$spread', async ({ K, rows, row0, n, spread, scale }) => {
    const rand = rng(K * 100 + rows + spread)
    const logits = randomFloats(rand, rows * K, -spread, spread)
    const y = randomLabels(rand, n, K)
    const U = storage(device, 'U', rows * K)
    const loss = storage(device, 'loss', rows)
    const correct = storage(device, 'correct', rows)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      const labels = upload(device, 'labels', Uint32Array.from(y))
      kernel.record(r, { logits: upload(device, 'logits', logits), labels, U, loss, correct }, { row0, rows, K, scale })
      r.submit()
    })
    const ref = softmaxGrad(K, logits, y, row0, rows, scale)
    expectClose(await download(device, U, rows * K), ref.U)
    expectClose(await download(device, loss, rows), ref.loss)
    expectClose(await download(device, correct, rows), ref.correct, 0, 0)
  })

  it('picks the first arg-max on ties', async () => {
    const K = 4
    const logits = new Float32Array([1, 3, 3, 0, 2, 2, 2, 2])
    const y = new Uint32Array([2, 0])
    const U = storage(device, 'U', 2 * K)
    const loss = storage(device, 'loss', 2)
    const correct = storage(device, 'correct', 2)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      kernel.record(r, { logits: upload(device, 'logits', logits), labels: upload(device, 'labels', y), U, loss, correct }, { row0: 0, rows: 2, K, scale: 1 })
      r.submit()
    })
    expectClose(await download(device, correct, 2), [0, 1], 0, 0)
  })
})
