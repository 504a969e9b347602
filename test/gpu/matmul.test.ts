// matmul.wgsl against model/layers/matmul.ts: ragged shapes, every transpose pair, offsets, α/β, NaN under β = 0, split-K.
import { describe, expect, it } from 'vitest'
import { MatmulKernel } from '../../client/gpu/matmul-kernel.ts'
import { Recorder } from '../../client/gpu/recorder.ts'
import { matmul, type MatmulShape } from '../../model/layers/matmul.ts'
import { testDevice, withErrorScope } from './device.ts'
import { download, expectClose, randomFloats, rng, upload } from './util.ts'

const device = await testDevice()
const kernel = new MatmulKernel(device)

interface Case extends MatmulShape {
  offs?: [number, number, number]
  nanC?: boolean
}

/** Runs one product on the GPU and on the reference, A, B and C each with `offs` floats of padding in front. */
async function check(c: Case, seed: number, k = kernel): Promise<void> {
  const { M, N, Kd } = c
  const [oA, oB, oC] = c.offs ?? [0, 0, 0]
  const rand = rng(seed)
  const A = randomFloats(rand, oA + M * Kd + 3)
  const B = randomFloats(rand, oB + Kd * N + 5)
  const C = randomFloats(rand, oC + M * N + 7)
  if (c.nanC) C.fill(NaN, oC, oC + M * N)
  const args = { M, N, Kd, transA: c.transA, transB: c.transB, alpha: c.alpha, beta: c.beta }
  const out = upload(device, 'C', C)
  await withErrorScope(device, () => {
    const r = new Recorder(device, 'test')
    k.record(r, { buffer: upload(device, 'A', A), offset: oA }, { buffer: upload(device, 'B', B), offset: oB }, { buffer: out, offset: oC }, args)
    r.submit()
  })
  const got = await download(device, out, C.length)
  const ref = C.slice()
  matmul({ ...args, A, B, C: ref, offA: oA, offB: oB, offC: oC })
  expectClose(got, ref, 1e-4, 1e-4)
}

const TRANSPOSES = [
  [false, false],
  [false, true],
  [true, false],
  [true, true],
] as const

describe('matmul.wgsl', () => {
  it.each([
    { M: 1, N: 1, Kd: 1, shape: [8, 8] },
    { M: 33, N: 17, Kd: 65, shape: [8, 8] },
    { M: 64, N: 64, Kd: 16, shape: [8, 8] },
    { M: 70, N: 5, Kd: 40, shape: [2, 32] },
    { M: 50, N: 12, Kd: 7, shape: [4, 16] },
    { M: 12, N: 50, Kd: 33, shape: [16, 4] },
    { M: 3, N: 130, Kd: 19, shape: [32, 2] },
  ])('matches the reference for M=$M N=$N Kd=$Kd (workgroup $shape) in every transpose pair', async ({ shape, ...s }) => {
    const p = kernel.plan(s)
    expect([p.wgX, p.wgY]).toEqual(shape)
    for (const [transA, transB] of TRANSPOSES) await check({ ...s, transA, transB }, s.M * 31 + s.N * 7 + s.Kd + (transA ? 1 : 0) + (transB ? 2 : 0))
  })

  it('reads and writes at element offsets, with α and β = 1 accumulating', async () => {
    for (const [transA, transB] of TRANSPOSES) await check({ M: 9, N: 21, Kd: 13, transA, transB, alpha: -0.5, beta: 1, offs: [7, 130, 3] }, 11)
  })

  it('ignores NaN in C when β = 0, and scales C by a general β', async () => {
    await check({ M: 17, N: 33, Kd: 5, nanC: true, offs: [0, 0, 2] }, 12)
    await check({ M: 17, N: 33, Kd: 5, transA: true, beta: 0.25, alpha: 2 }, 13)
  })

  it('splits a long thin product along its depth and still matches (weight gradients of a conv layer)', async () => {
    const s = { M: 8, N: 25, Kd: 2000, transA: true }
    expect(kernel.plan(s)).toMatchObject({ wgX: 8, wgY: 8, splits: 7 })
    await check(s, 14)
    await check({ ...s, beta: 1, alpha: -0.01, offs: [5, 3, 11] }, 15)
    await check({ ...s, nanC: true }, 16)
  })

  it('folds a tile grid wider than one dimension allows into two', async () => {
    // 5×3 tiles of 32×32 on a grid folded at 4 workgroups per dimension: 4×4 workgroups, the last one idle.
    const folded = new MatmulKernel(device, undefined, 4)
    for (const [transA, transB] of TRANSPOSES) await check({ M: 70, N: 130, Kd: 20, transA, transB }, 17, folded)
  })

  it('keeps the depth whole when there are tiles enough', () => {
    expect(kernel.plan({ M: 256, N: 784, Kd: 32 }).splits).toBe(1)
  })
})
