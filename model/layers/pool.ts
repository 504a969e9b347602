// maxPooling2d {poolSize, strides, padding}: the largest value of each window; the gradient goes to that one input.
import type { z } from 'zod'
import type { MaxPooling2dSpec } from '../spec.ts'
import type { LayerKind, PoolGeom } from './types.ts'
import { pair, windowGeom } from './window.ts'

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
    const { inH, inW, inC: C, outH, outW, kh, kw, sh, sw, padTop, padLeft } = plan.geom
    const y = new Float32Array(rows * outH * outW * C)
    const arg = new Uint32Array(y.length)
    const inSize = inH * inW * C
    let o = 0
    for (let b = 0; b < rows; b++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let c = 0; c < C; c++, o++) {
            let best = -Infinity
            let at = 0
            for (let ky = 0; ky < kh; ky++) {
              const iy = oy * sh - padTop + ky
              if (iy < 0 || iy >= inH) continue
              for (let kx = 0; kx < kw; kx++) {
                const ix = ox * sw - padLeft + kx
                if (ix < 0 || ix >= inW) continue
                const i = (iy * inW + ix) * C + c
                const v = x[b * inSize + i]
                if (v > best) {
                  best = v
                  at = i
                }
              }
            }
            y[o] = best
            arg[o] = at
          }
        }
      }
    }
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
