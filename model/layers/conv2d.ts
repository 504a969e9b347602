// conv2d {filters, kernelSize, strides, padding, activation}: im2col patches times the kernel (filters × kh·kw·C).
import type { z } from 'zod'
import type { Conv2dSpec } from '../spec.ts'
import type { Part } from '../update.ts'
import { activationGrad, biasActivate } from './activation.ts'
import { columnSums, matmul } from './matmul.ts'
import type { ConvGeom, LayerKind, WindowGeom } from './types.ts'
import { forEachTap, pair, windowGeom } from './window.ts'

type Spec = z.infer<typeof Conv2dSpec>

/** Rows of the patch matrix (one per output pixel of every sample) and its columns (kh·kw·C). */
export function patchShape(g: WindowGeom, rows: number): { P: number; Q: number } {
  return { P: rows * g.outH * g.outW, Q: g.kh * g.kw * g.inC }
}

/**
 * im2col: patches[(b, oy, ox), (ky, kx, c)] = x[b, oy·sh − padTop + ky, ox·sw − padLeft + kx, c], 0 off the image.
 * Row-major P×Q with P = rows·outH·outW, Q = kh·kw·C.
 */
export function im2col(g: WindowGeom, x: Float32Array, rows: number): Float32Array {
  const { P, Q } = patchShape(g, rows)
  const out = new Float32Array(P * Q)
  const C = g.inC
  forEachTap(g, rows, (r, t, pixel) => {
    const dst = r * Q + t
    for (let c = 0; c < C; c++) out[dst + c] = x[pixel + c]
  })
  return out
}

/** col2im, the adjoint of im2col: every patch entry is added back to the input pixel it came from. */
export function col2im(g: WindowGeom, patches: Float32Array, rows: number): Float32Array {
  const { Q } = patchShape(g, rows)
  const dx = new Float32Array(rows * g.inH * g.inW * g.inC)
  const C = g.inC
  forEachTap(g, rows, (r, t, pixel) => {
    const src = r * Q + t
    for (let c = 0; c < C; c++) dx[pixel + c] += patches[src + c]
  })
  return dx
}

export const conv2d: LayerKind<Spec, ConvGeom> = {
  type: 'conv2d',

  plan(spec, inShape) {
    const w = windowGeom(inShape, pair(spec.kernelSize), pair(spec.strides), spec.padding)
    const F = spec.filters
    const init = spec.kernelInitializer ?? (spec.activation === 'relu' ? 'heUniform' : 'glorotUniform')
    const taps = w.kh * w.kw
    return {
      outShape: [w.outH, w.outW, F],
      geom: { kind: 'conv2d', ...w, F },
      params: [
        { role: 'kernel', shape: [F, w.kh, w.kw, w.inC], factorable: false, fanIn: taps * w.inC, fanOut: taps * F, init },
        ...(spec.useBias ? [{ role: 'bias' as const, shape: [F], factorable: false, fanIn: taps * w.inC, fanOut: taps * F, init: 'zeros' as const }] : []),
      ],
    }
  },

  forward(plan, tensors, params, x, rows) {
    const g = plan.geom
    const { P, Q } = patchShape(g, rows)
    const patches = im2col(g, x, rows)
    const y = new Float32Array(P * g.F)
    matmul({ A: patches, B: params, C: y, M: P, N: g.F, Kd: Q, transB: true, offB: tensors[plan.tensors[0]].offset })
    const bias = plan.tensors[1] === undefined ? undefined : tensors[plan.tensors[1]]
    biasActivate(y, P, g.F, plan.activation, bias && params, bias?.offset)
    return { y, cache: patches }
  },

  backward({ plan, tensors, params, y, cache, dy, rows, needDx, paths }) {
    const g = plan.geom
    const { P, Q } = patchShape(g, rows)
    const patches = cache as Float32Array
    const delta = activationGrad(plan.activation, y, dy)
    const kernel = tensors[plan.tensors[0]]
    const dW = new Float32Array(g.F * Q)
    matmul({ A: delta, B: patches, C: dW, M: g.F, N: Q, Kd: P, transA: true })
    const parts: Part[] = [{ tensor: kernel.index, path: paths[kernel.index], form: 'dense', floats: dW }]
    const bias = plan.tensors[1]
    if (bias !== undefined) parts.push({ tensor: bias, path: paths[bias], form: 'dense', floats: columnSums(delta, P, g.F) })
    if (!needDx) return { parts }
    const dPatches = new Float32Array(P * Q)
    matmul({ A: delta, B: params, C: dPatches, M: P, N: Q, Kd: g.F, offB: kernel.offset })
    return { dx: col2im(g, dPatches, rows), parts }
  },
}
