// maxPooling2d on the GPU: window maxima with their arg-max (kept for backward), and the gradient routed back to it.
import type { PoolGeom } from '../../../model/layers/types.ts'
import { GrowableBuffer } from '../buffers.ts'
import type { GpuLayerKind } from './types.ts'

export const maxPooling2d: GpuLayerKind<PoolGeom> = (ctx, plan) => {
  const g = plan.geom
  const arg = new GrowableBuffer(ctx.device, `${plan.name}.argmax`, GPUBufferUsage.STORAGE)
  return {
    plan,
    passThrough: false,
    floatsPerRow: plan.outSize,

    forward(r, { x, y, rows }) {
      ctx.kernels.maxPool.record(r, x, y, arg.ensure(rows * plan.outSize * 4), g, rows)
    },

    backward(r, { dy, dx, rows }) {
      if (dx) ctx.kernels.maxPoolGrad.record(r, dy, arg.ensure(rows * plan.outSize * 4), dx, g, rows)
      return []
    },

    destroy() {
      arg.destroy()
    },
  }
}
