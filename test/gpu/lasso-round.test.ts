// lasso_coord.wgsl and lasso_residual.wgsl against apps/lasso/step.ts: a round's coordinate steps and residual change.
import { describe, expect, it } from 'vitest'
import { coordinateDeltas, residualChange } from '../../apps/lasso/step.ts'
import { LassoRoundKernel } from '../../client/gpu/lasso-round-kernel.ts'
import { testDevice } from './device.ts'
import { download, expectClose, randomFloats, record, rng, upload } from './util.ts'

const device = await testDevice()
const kernel = new LassoRoundKernel(device)

/** The buffers of the coordinate steps (delta starts NaN, so an unwritten one shows). */
function stepBuffers(x: Float32Array, r: Float32Array, picks: number[], beta: Float32Array) {
  return {
    x: upload(device, 'x', x),
    r: upload(device, 'r', r),
    picks: upload(device, 'picks', Uint32Array.from(picks)),
    beta: upload(device, 'beta', beta),
    delta: upload(device, 'delta', new Float32Array(picks.length).fill(NaN)),
  }
}

describe('lasso round kernels', () => {
  it.each([
    { n: 1, cols: 1, picks: [0] },
    { n: 37, cols: 9, picks: [8, 0, 4] },
    { n: 2000, cols: 64, picks: [63, 1, 2, 40, 17, 5, 9, 30] },
    { n: 300, cols: 5, picks: [4, 2] }, // column 2 is all zeros: its β stays 0
  ])('n=$n, a block of $cols columns, picks $picks', async ({ n, cols, picks }) => {
    const rand = rng(n + cols)
    const x = randomFloats(rand, n * cols, -0.1, 0.1)
    if (cols === 5) x.fill(0, 2 * n, 3 * n)
    const r = randomFloats(rand, n)
    const beta = randomFloats(rand, cols, -0.5, 0.5)
    if (cols === 5) beta[2] = 0
    const lambda = 0.02
    // the reference, in float64 on the float32 inputs
    const refBeta = Float64Array.from(beta)
    const refR = Float64Array.from(r)
    const block = { n, cols, x }
    const refDelta = coordinateDeltas(block, refR, picks, refBeta, lambda)
    const refDr = residualChange(block, picks, refDelta, refR)
    // some picks are thresholded to exactly zero and some move: both paths are exercised
    if (picks.length > 2) expect(refDelta.some((d) => d !== 0)).toBe(true)

    const bufs = { ...stepBuffers(x, r, picks, beta), dr: upload(device, 'dr', new Float32Array(n).fill(NaN)) }
    await record(device, (rec) => kernel.record(rec, bufs, { n, picks: picks.length, lambda }))
    expectClose(await download(device, bufs.delta, picks.length), refDelta, 1e-5, 1e-3)
    expectClose(await download(device, bufs.beta, cols), refBeta, 1e-5, 1e-3)
    expectClose(await download(device, bufs.dr, n), refDr, 1e-5, 1e-3)
    expectClose(await download(device, bufs.r, n), refR, 1e-5, 1e-3)
  })

  it('recordSteps: the coordinate steps alone, r left as it was (a grid worker applies the coordinator’s change)', async () => {
    const n = 123
    const cols = 7
    const picks = [6, 3, 0]
    const rand = rng(99)
    const x = randomFloats(rand, n * cols, -0.2, 0.2)
    const r = randomFloats(rand, n)
    const beta = randomFloats(rand, cols, -0.5, 0.5)
    const lambda = 0.05
    const refBeta = Float64Array.from(beta)
    const refDelta = coordinateDeltas({ n, cols, x }, r, picks, refBeta, lambda)
    const bufs = stepBuffers(x, r, picks, beta)
    await record(device, (rec) => kernel.recordSteps(rec, bufs, { n, picks: picks.length, lambda }))
    expectClose(await download(device, bufs.delta, picks.length), refDelta, 1e-5, 1e-3)
    expectClose(await download(device, bufs.beta, cols), refBeta, 1e-5, 1e-3)
    expect(Array.from(await download(device, bufs.r, n))).toEqual(Array.from(r))
  })
})
