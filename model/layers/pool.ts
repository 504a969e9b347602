// maxPooling2d {poolSize, strides, padding}: the largest value of each window; the gradient goes to that one input.
import type { z } from 'zod'
import type { MaxPooling2dSpec } from '../spec.ts'
import type { LayerKind, PoolGeom } from './types.ts'
import { forEachTap, pair, windowGeom } from './window.ts'

type Spec = z.infer<typeof MaxPooling2dSpec>

export const maxPooling2d: LayerKind<Spec, PoolGeom> = {
  type: 'maxPooling2d',

  plan(spec, inShape) {
    const k = pair(spec.poolSize)
    const w = windowGeom(inShape, k, pair(spec.strides ?? k), spec.padding)
    return { outShape: [w.outH, w.outW, w.inC], geom: { kind: 'maxPooling2d', ...w }, params: [] }
  },

  /** cache: for each output, the index (within its sample) of the first largest input of its window. */
  forward(plan, _tensors, _params, x, rows) {
    const g = plan.geom
    const C = g.inC
    const perWindow = g.outH * g.outW
    const inSize = g.inH * g.inW * C
    const y = new Float32Array(rows * perWindow * C).fill(-Infinity)
    const arg = new Uint32Array(y.length)
    // windows are visited in order and each one's taps in scan order: a strict > keeps the first largest
    forEachTap(g, rows, (r, _t, pixel) => {
      const o = r * C
      const sample = Math.floor(r / perWindow) * inSize
      for (let c = 0; c < C; c++) {
        const v = x[pixel + c]
        if (v > y[o + c]) {
          y[o + c] = v
          arg[o + c] = pixel + c - sample
        }
      }
    })
    return { y, cache: arg }
  },

  backward({ plan, cache, dy, rows, needDx }) {
    if (!needDx) return { parts: [] }
    const { inH, inW, inC, outH, outW } = plan.geom
    const arg = cache as Uint32Array
    const inSize = inH * inW * inC
    const outSize = outH * outW * inC
    const dx = new Float32Array(rows * inSize)
    for (let b = 0; b < rows; b++) for (let o = 0; o < outSize; o++) dx[b * inSize + arg[b * outSize + o]] += dy[b * outSize + o]
    return { dx, parts: [] }
  },
}
