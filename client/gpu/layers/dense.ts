// dense on the GPU: y = act(x·Wᵀ + b); backward δ = dy ⊙ act', dx = δ·W, then W += δᵀ·x (factors) or via grads.
import type { DenseGeom, TensorSpec } from '../../../model/layers/types.ts'
import { addDeltas, at, type GpuLayerKind, type PartSource } from './types.ts'

export const dense: GpuLayerKind<DenseGeom> = (ctx, plan) => {
  const { K, J } = plan.geom
  const k = ctx.kernels
  const kernel = ctx.tensors[plan.tensors[0]]
  const bias = plan.tensors[1] === undefined ? undefined : ctx.tensors[plan.tensors[1]]
  return {
    plan,
    passThrough: false,
    floatsPerRow: 0,

    forward(r, { x, y, rows }) {
      k.matmul.record(r, x, at(ctx.model, kernel), y, { M: rows, N: K, Kd: J, transB: true })
      k.biasAct.record(r, y, bias && at(ctx.model, bias), { rows, cols: K, act: plan.activation })
    },

    backward(r, { x, y, dy, dx, rows, paths }) {
      k.actGrad.record(r, dy, y, { count: rows * K, act: plan.activation })
      const delta = dy
      const factors = paths[kernel.index] === 'sf'
      const dense: TensorSpec[] = []
      const sources: PartSource[] = []
      if (factors) sources.push({ tensor: kernel.index, path: 'sf', form: 'factors', u: delta, v: x })
      else {
        k.matmul.record(r, delta, x, at(ctx.grads, kernel), { M: K, N: J, Kd: rows, transA: true })
        dense.push(kernel)
        sources.push({ tensor: kernel.index, path: paths[kernel.index], form: 'dense' })
      }
      if (bias) {
        k.colSums.record(r, delta, at(ctx.grads, bias), { rows, cols: K })
        dense.push(bias)
        sources.push({ tensor: bias.index, path: paths[bias.index], form: 'dense' })
      }
      // The input gradient reads W before this layer's update touches it.
      if (dx) k.matmul.record(r, delta, at(ctx.model, kernel), dx, { M: rows, N: J, Kd: K })
      if (factors) k.matmul.record(r, delta, x, at(ctx.model, kernel), { M: K, N: J, Kd: rows, transA: true, beta: 1 })
      addDeltas(ctx, r, dense)
      return sources
    },

    destroy() {},
  }
}
