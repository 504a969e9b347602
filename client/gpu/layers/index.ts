// The GPU layer registry, keyed by layer type like model/layers/index.ts: a new layer type is one file and one line.
import type { Geometry, LayerPlan } from '../../../model/layers/types.ts'
import type { LayerType } from '../../../model/spec.ts'
import { conv2d } from './conv2d.ts'
import { dense } from './dense.ts'
import { flatten } from './flatten.ts'
import { maxPooling2d } from './pool.ts'
import type { GpuLayerKind, LayerContext, LayerProgram } from './types.ts'

export const GPU_LAYERS: { [T in LayerType]: GpuLayerKind<Extract<Geometry, { kind: T }>> } = {
  dense,
  conv2d,
  maxPooling2d,
  flatten,
}

/** The program of one planned layer. */
export function layerProgram(ctx: LayerContext, plan: LayerPlan): LayerProgram {
  return (GPU_LAYERS[plan.type] as GpuLayerKind<Geometry>)(ctx, plan)
}
