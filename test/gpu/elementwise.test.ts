// bias_act.wgsl, act_grad.wgsl and add.wgsl against model/layers/activation.ts and plain addition.
import { describe, it } from 'vitest'
import { ActGradKernel } from '../../client/gpu/act-grad-kernel.ts'
import { AddKernel } from '../../client/gpu/add-kernel.ts'
import { BiasActKernel } from '../../client/gpu/bias-act-kernel.ts'
import { activationGrad, biasActivate } from '../../model/layers/activation.ts'
import type { Activation } from '../../model/spec.ts'
import { testDevice } from './device.ts'
import { download, expectClose, randomFloats, record, rng, upload } from './util.ts'

const device = await testDevice()
const biasAct = new BiasActKernel(device)
const actGrad = new ActGradKernel(device)
const add = new AddKernel(device)
const ACTS: Activation[] = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax']

describe('bias_act.wgsl and act_grad.wgsl', () => {
  it.each([
    { rows: 1, cols: 1 },
    { rows: 33, cols: 17 },
    { rows: 7, cols: 130 },
  ])('match the reference for every activation, rows=$rows cols=$cols', async ({ rows, cols }) => {
    for (const act of ACTS) {
      for (const withBias of [true, false]) {
        const rand = rng(rows * cols + act.length + (withBias ? 1 : 0))
        const yOff = 3
        const bOff = 5
        const z = randomFloats(rand, yOff + rows * cols + 2, -20, 20) // past tanh's and sigmoid's saturation
        const arena = randomFloats(rand, bOff + cols + 1)
        const y = upload(device, 'y', z)
        await record(device, (r) => biasAct.record(r, { buffer: y, offset: yOff }, withBias ? { buffer: upload(device, 'bias', arena), offset: bOff } : undefined, { rows, cols, act }))
        const ref = z.slice()
        const body = ref.subarray(yOff, yOff + rows * cols)
        biasActivate(body, rows, cols, act, withBias ? arena : undefined, bOff)
        expectClose(await download(device, y, z.length), ref, 1e-5, 1e-5)

        // The derivative, from that output, in place on a gradient at another offset.
        const dyOff = 7
        const dyHost = randomFloats(rand, dyOff + rows * cols)
        const dy = upload(device, 'dy', dyHost)
        await record(device, (r) => actGrad.record(r, { buffer: dy, offset: dyOff }, { buffer: y, offset: yOff }, { count: rows * cols, act }))
        const want = dyHost.slice()
        want.set(activationGrad(act, body, dyHost.subarray(dyOff)), dyOff)
        expectClose(await download(device, dy, dyHost.length), want, 1e-5, 1e-5)
      }
    }
  })
})

describe('add.wgsl', () => {
  it.each([
    { count: 1, dst: 0, src: 0 },
    { count: 1000, dst: 17, src: 3 },
    // 65535 workgroups of 64 hold 4 194 240 invocations: this one needs wid.y > 0.
    { count: 4_200_000, dst: 1, src: 0 },
  ])('adds $count floats at offsets $dst ← $src', async ({ count, dst, src }) => {
    const rand = rng(count)
    const a = randomFloats(rand, dst + count + 1)
    const b = randomFloats(rand, src + count)
    const out = upload(device, 'dst', a)
    await record(device, (r) => add.record(r, { buffer: out, offset: dst }, { buffer: upload(device, 'src', b), offset: src }, count))
    const ref = a.slice()
    for (let i = 0; i < count; i++) ref[dst + i] += b[src + i]
    expectClose(await download(device, out, a.length), ref, 0, 0)
  })
})
