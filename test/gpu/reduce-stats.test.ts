// reduce_stats.wgsl against model/loss.ts reduceStats, for n below, at and far above the workgroup size.
import { describe, expect, it } from 'vitest'
import { Recorder } from '../../client/gpu/recorder.ts'
import { ReduceStatsKernel } from '../../client/gpu/reduce-stats-kernel.ts'
import { reduceStats } from '../../model/loss.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, randomFloats, rng, storage, upload } from './util.ts'

const device = await testDevice()
const kernel = new ReduceStatsKernel(device)

describe('reduce_stats.wgsl', () => {
  it.each([1, 7, 256, 257, 1000, 5003])('sums loss and correct over n=%i into its slot', async (n) => {
    const rand = rng(n)
    const loss = randomFloats(rand, n, 1, 5)
    const correct = Float32Array.from({ length: n }, () => (rand() < 0.3 ? 1 : 0))
    const out = storage(device, 'out', 4)
    await withErrorScope(device, () => {
      const r = new Recorder(device, 'test')
      kernel.record(r, { loss: upload(device, 'loss', loss), correct: upload(device, 'correct', correct), out }, { n, slot: 1 })
      r.submit()
    })
    const got = await download(device, out, 4)
    const ref = reduceStats(loss, correct)
    expect(Array.from(got.subarray(0, 2))).toEqual([0, 0])
    // A tree of f32 partial sums is accurate to a few ulps; a dropped sample (≥ 1) would show.
    expectClose([got[2]], [ref.loss], 1e-4, 2e-6)
    expect(got[3]).toBe(ref.correct)
  })
})
