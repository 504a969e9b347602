// conv2d on the GPU: im2col patches · Wᵀ → NHWC; backward dW = δᵀ·patches, dPatches = δ·W (over the patches, which
// dW no longer needs), dx = col2im(dPatches). Conv kernels are not factorable: every part is a dense delta.
import type { ConvGeom, TensorSpec } from '../../../model/layers/types.ts'
import { GrowableBuffer } from '../buffers.ts'
import { addDeltas, at, type GpuLayerKind, type PartSource } from './types.ts'

export const conv2d: GpuLayerKind<ConvGeom> = (ctx, plan) => {
  const g = plan.geom
  const k = ctx.kernels
  const pixels = g.outH * g.outW
  const Q = g.kh * g.kw * g.inC
  const kernel = ctx.tensors[plan.tensors[0]]
  const bias = plan.tensors[1] === undefined ? undefined : ctx.tensors[plan.tensors[1]]
  const patches = new GrowableBuffer(ctx.device, `${plan.name}.patches`, GPUBufferUsage.STORAGE)
  return {
    plan,
    passThrough: false,
    floatsPerRow: pixels * Q,

    forward(r, { x, y, rows }) {
      const P = rows * pixels
      const pb = patches.ensure(P * Q * 4)
      k.im2col.record(r, x, pb, g, rows)
      k.matmul.record(r, { buffer: pb, offset: 0 }, at(ctx.model, kernel), y, { M: P, N: g.F, Kd: Q, transB: true })
      k.biasAct.record(r, y, bias && at(ctx.model, bias), { rows: P, cols: g.F, act: plan.activation })
    },

    backward(r, { y, dy, dx, rows, paths }) {
      const P = rows * pixels
      const pb = { buffer: patches.ensure(P * Q * 4), offset: 0 }
      k.actGrad.record(r, dy, y, { count: P * g.F, act: plan.activation })
      const delta = dy
      k.matmul.record(r, delta, pb, at(ctx.grads, kernel), { M: g.F, N: Q, Kd: P, transA: true })
      const dense: TensorSpec[] = [kernel]
      const sources: PartSource[] = [{ tensor: kernel.index, path: paths[kernel.index], form: 'dense' }]
      if (bias) {
        k.colSums.record(r, delta, at(ctx.grads, bias), { rows: P, cols: g.F })
        dense.push(bias)
        sources.push({ tensor: bias.index, path: paths[bias.index], form: 'dense' })
      }
      if (dx) {
        k.matmul.record(r, delta, at(ctx.model, kernel), pb, { M: P, N: Q, Kd: g.F })
        k.col2im.record(r, pb.buffer, dx, g, rows)
      }
      addDeltas(ctx, r, dense)
      return sources
    },

    destroy() {
      patches.destroy()
    },
  }
}
