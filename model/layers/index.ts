// The layer registry: a new layer type is one file beside this one and one line here.
import type { LayerSpec, LayerType } from '../spec.ts'
import { conv2d } from './conv2d.ts'
import { dense } from './dense.ts'
import { flatten } from './flatten.ts'
import { maxPooling2d } from './pool.ts'
import type { Geometry, LayerKind } from './types.ts'

export const LAYERS: { [T in LayerType]: LayerKind<Extract<LayerSpec, { type: T }>, Extract<Geometry, { kind: T }>> } = {
  dense,
  conv2d,
  maxPooling2d,
  flatten,
}

/** The registry entry for a layer type, loosely typed for code that walks a plan. */
export function layerKind(type: LayerType): LayerKind<LayerSpec, Geometry> {
  return LAYERS[type] as unknown as LayerKind<LayerSpec, Geometry>
}
