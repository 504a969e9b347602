// softmax_ce.wgsl against model/loss.ts softmaxCrossEntropy: gradient, loss and correct, with large logits too.
import { describe, it } from 'vitest'
import { SoftmaxCeKernel } from '../../client/gpu/softmax-ce-kernel.ts'
import { softmaxCrossEntropy } from '../../model/loss.ts'
import { testDevice } from './device.ts'
import { download, expectClose, randomFloats, randomLabels, record, rng, storage, upload } from './util.ts'

const device = await testDevice()
const kernel = new SoftmaxCeKernel(device)

async function run(K: number, logits: Float32Array, logitsOff: number, y: Uint8Array, row0: number, rows: number, scale: number) {
  const dOff = 2
  const dLogits = storage(device, 'dLogits', dOff + rows * K)
  const loss = storage(device, 'loss', rows)
  const correct = storage(device, 'correct', rows)
  await record(device, (r) => {
    const b = { logits: { buffer: upload(device, 'logits', logits), offset: logitsOff }, labels: upload(device, 'labels', Uint32Array.from(y)), dLogits: { buffer: dLogits, offset: dOff }, loss, correct }
    kernel.record(r, b, { row0, rows, K, scale })
  })
  return {
    dLogits: (await download(device, dLogits, dOff + rows * K)).subarray(dOff),
    loss: await download(device, loss, rows),
    correct: await download(device, correct, rows),
  }
}

describe('softmax_ce.wgsl', () => {
  it.each([
    { K: 10, rows: 8, row0: 0, n: 8, spread: 5, scale: -0.1 / 8 },
    { K: 3, rows: 1, row0: 3, n: 4, spread: 5, scale: 1 },
    { K: 7, rows: 33, row0: 5, n: 40, spread: 5, scale: -0.5 },
    { K: 10, rows: 65, row0: 1, n: 70, spread: 200, scale: 0.01 },
    { K: 1, rows: 3, row0: 0, n: 3, spread: 1, scale: 1 },
  ])('matches the reference for K=$K rows=$rows row0=$row0 logits ±$spread', async ({ K, rows, row0, n, spread, scale }) => {
    const rand = rng(K * 100 + rows + spread)
    const off = 3
    const logits = randomFloats(rand, off + rows * K, -spread, spread)
    const y = randomLabels(rand, n, K)
    const got = await run(K, logits, off, y, row0, rows, scale)
    const ref = softmaxCrossEntropy(K, logits.subarray(off), y, row0, rows, scale)
    expectClose(got.dLogits, ref.dLogits)
    expectClose(got.loss, ref.loss)
    expectClose(got.correct, ref.correct, 0, 0)
  })

  it('picks the first arg-max on ties', async () => {
    const got = await run(4, new Float32Array([1, 3, 3, 0, 2, 2, 2, 2]), 0, new Uint8Array([2, 0]), 0, 2, 1)
    expectClose(got.correct, [0, 1], 0, 0)
  })
})
