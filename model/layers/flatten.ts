// flatten: [H, W, C] → [H·W·C]. Activations are already row-major NHWC, so nothing moves (Keras' order).
import type { z } from 'zod'
import type { FlattenSpec } from '../spec.ts'
import type { FlattenGeom, LayerKind } from './types.ts'

type Spec = z.infer<typeof FlattenSpec>

export const flatten: LayerKind<Spec, FlattenGeom> = {
  type: 'flatten',
  plan(_spec, inShape) {
    return { outShape: [inShape.reduce((a, b) => a * b, 1)], geom: { kind: 'flatten' }, params: [] }
  },
  forward(_plan, _tensors, _params, x) {
    return { y: x }
  },
  backward({ dy, needDx }) {
    return needDx ? { dx: dy, parts: [] } : { parts: [] }
  },
}
