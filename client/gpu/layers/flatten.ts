// flatten on the GPU: NHWC activations are already flat per sample, so its output and gradient are its input's.
import type { FlattenGeom } from '../../../model/layers/types.ts'
import type { GpuLayerKind } from './types.ts'

export const flatten: GpuLayerKind<FlattenGeom> = (_ctx, plan) => ({
  plan,
  passThrough: true,
  floatsPerRow: 0,
  forward() {},
  backward() {
    return []
  },
  destroy() {},
})
