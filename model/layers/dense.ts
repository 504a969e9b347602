// dense {units, activation}: y = act(x·Wᵀ + b), W is units×inputs. Its kernel's gradient δᵀx may travel as factors.
import type { Part } from '../update.ts'
import { formOf } from '../update.ts'
import type { DenseSpec } from '../spec.ts'
import { activationGrad, biasActivate } from './activation.ts'
import { columnSums, matmul } from './matmul.ts'
import type { DenseGeom, LayerKind } from './types.ts'
import type { z } from 'zod'

type Spec = z.infer<typeof DenseSpec>

export const dense: LayerKind<Spec, DenseGeom> = {
  type: 'dense',

  plan(spec, inShape) {
    if (inShape.length !== 1) throw new Error(`its input has shape [${inShape.join(', ')}]; put a flatten layer before it`)
    const K = spec.units
    const J = inShape[0]
    const init = spec.kernelInitializer ?? (spec.activation === 'relu' ? 'heUniform' : 'glorotUniform')
    return {
      outShape: [K],
      geom: { kind: 'dense', K, J },
      params: [
        { role: 'kernel', shape: [K, J], factorable: true, fanIn: J, fanOut: K, init },
        ...(spec.useBias ? [{ role: 'bias' as const, shape: [K], factorable: false, fanIn: J, fanOut: K, init: 'zeros' as const }] : []),
      ],
    }
  },

  forward(plan, tensors, params, x, rows) {
    const { K, J } = plan.geom
    const y = new Float32Array(rows * K)
    matmul({ A: x, B: params, C: y, M: rows, N: K, Kd: J, transB: true, offB: tensors[plan.tensors[0]].offset })
    const bias = plan.tensors[1] === undefined ? undefined : tensors[plan.tensors[1]]
    biasActivate(y, rows, K, plan.activation, bias && params, bias?.offset)
    return { y }
  },

  backward({ plan, tensors, params, x, y, dy, rows, needDx, paths }) {
    const { K, J } = plan.geom
    const delta = activationGrad(plan.activation, y, dy)
    const kernel = tensors[plan.tensors[0]]
    const parts: Part[] = []
    const path = paths[kernel.index]
    if (path === 'sf') {
      const floats = new Float32Array(rows * (K + J))
      floats.set(delta.subarray(0, rows * K))
      floats.set(x.subarray(0, rows * J), rows * K)
      parts.push({ tensor: kernel.index, path, form: 'factors', floats })
    } else {
      const dW = new Float32Array(K * J)
      matmul({ A: delta, B: x, C: dW, M: K, N: J, Kd: rows, transA: true })
      parts.push({ tensor: kernel.index, path, form: formOf(path), floats: dW })
    }
    const bias = plan.tensors[1]
    if (bias !== undefined) parts.push({ tensor: bias, path: paths[bias], form: 'dense', floats: columnSums(delta, rows, K) })
    if (!needDx) return { parts }
    const dx = new Float32Array(rows * J)
    matmul({ A: delta, B: params, C: dx, M: rows, N: J, Kd: K, offB: kernel.offset })
    return { dx, parts }
  },
}
