// im2col / col2im and max-pool forward / backward against model/layers/conv2d.ts and pool.ts, on valid and same
// padding, strides above and below the window, non-square windows, several channels, inputs at an offset.
import { describe, expect, it } from 'vitest'
import { Col2imKernel } from '../../client/gpu/col2im-kernel.ts'
import { Im2colKernel } from '../../client/gpu/im2col-kernel.ts'
import { MaxPoolGradKernel } from '../../client/gpu/max-pool-grad-kernel.ts'
import { MaxPoolKernel } from '../../client/gpu/max-pool-kernel.ts'
import { col2im, im2col, patchShape } from '../../model/layers/conv2d.ts'
import { maxPooling2d } from '../../model/layers/pool.ts'
import type { LayerPlan, PoolGeom } from '../../model/layers/types.ts'
import { windowGeom } from '../../model/layers/window.ts'
import { testDevice } from './device.ts'
import { download, downloadU32, expectClose, randomFloats, record, rng, storage, storageU32, upload } from './util.ts'

const device = await testDevice()
const im2colK = new Im2colKernel(device)
const col2imK = new Col2imKernel(device)
const poolK = new MaxPoolKernel(device)
const poolGradK = new MaxPoolGradKernel(device)

const CASES = [
  { name: '1×1 on 1×1×1', shape: [1, 1, 1], k: [1, 1], s: [1, 1], pad: 'valid', rows: 1 },
  { name: '3×2 valid on 7×6×3', shape: [7, 6, 3], k: [3, 2], s: [1, 1], pad: 'valid', rows: 2 },
  { name: '3×3 same stride 2 on 7×8×2', shape: [7, 8, 2], k: [3, 3], s: [2, 2], pad: 'same', rows: 3 },
  { name: '2×4 same stride 1×3 on 5×9×4', shape: [5, 9, 4], k: [2, 4], s: [1, 3], pad: 'same', rows: 2 },
  { name: '2×2 valid stride 3 on 8×7×1 (uncovered pixels)', shape: [8, 7, 1], k: [2, 2], s: [3, 3], pad: 'valid', rows: 2 },
] as const

describe('im2col.wgsl and col2im.wgsl', () => {
  it.each(CASES)('match the reference: $name', async (c) => {
    const g = windowGeom([...c.shape], [...c.k], [...c.s], c.pad)
    const { P, Q } = patchShape(g, c.rows)
    const rand = rng(P * Q)
    const xOff = 6
    const x = randomFloats(rand, xOff + c.rows * c.shape[0] * c.shape[1] * c.shape[2])
    const patches = storage(device, 'patches', P * Q)
    await record(device, (r) => im2colK.record(r, { buffer: upload(device, 'x', x), offset: xOff }, patches, g, c.rows))
    expectClose(await download(device, patches, P * Q), im2col(g, x.subarray(xOff), c.rows), 0, 0)

    const dP = randomFloats(rand, P * Q)
    const dxOff = 4
    const inSize = c.rows * g.inH * g.inW * g.inC
    const dxHost = new Float32Array(dxOff + inSize + 3).fill(NaN)
    const dx = upload(device, 'dx', dxHost)
    await record(device, (r) => col2imK.record(r, upload(device, 'dPatches', dP), { buffer: dx, offset: dxOff }, g, c.rows))
    const got = await download(device, dx, dxHost.length)
    expectClose(got.subarray(dxOff, dxOff + inSize), col2im(g, dP, c.rows), 1e-5, 1e-5)
    expect(Number.isNaN(got[0]) && Number.isNaN(got[dxOff + inSize])).toBe(true)
  })
})

describe('max_pool.wgsl and max_pool_grad.wgsl', () => {
  it.each(CASES)('match the reference: $name', async (c) => {
    const g: PoolGeom = { kind: 'maxPooling2d', ...windowGeom([...c.shape], [...c.k], [...c.s], c.pad) }
    const plan = { geom: g } as LayerPlan<PoolGeom>
    const rand = rng(g.outH * g.outW * 31 + c.rows)
    const xOff = 2
    const inSize = g.inH * g.inW * g.inC
    const outSize = g.outH * g.outW * g.inC
    // Coarse values so windows hold ties: the first maximum in scan order must win.
    const x = Float32Array.from(randomFloats(rand, xOff + c.rows * inSize), (v) => Math.round(v * 3))
    const y = storage(device, 'y', c.rows * outSize)
    const arg = storageU32(device, 'arg', c.rows * outSize)
    await record(device, (r) => poolK.record(r, { buffer: upload(device, 'x', x), offset: xOff }, { buffer: y, offset: 0 }, arg, g, c.rows))
    const ref = maxPooling2d.forward(plan, [], new Float32Array(0), x.subarray(xOff), c.rows)
    expectClose(await download(device, y, c.rows * outSize), ref.y, 0, 0)
    expect(Array.from(await downloadU32(device, arg, c.rows * outSize))).toEqual(Array.from(ref.cache as Uint32Array))

    const dyOff = 3
    const dy = randomFloats(rand, dyOff + c.rows * outSize)
    const dx = storage(device, 'dx', 1 + c.rows * inSize)
    await record(device, (r) => poolGradK.record(r, { buffer: upload(device, 'dy', dy), offset: dyOff }, arg, { buffer: dx, offset: 1 }, g, c.rows))
    const back = maxPooling2d.backward({ plan, tensors: [], params: new Float32Array(0), x, y: ref.y, cache: ref.cache, dy: dy.subarray(dyOff), rows: c.rows, needDx: true, paths: [] })
    expectClose((await download(device, dx, 1 + c.rows * inSize)).subarray(1), back.dx!, 1e-6, 1e-6)
  })
})
