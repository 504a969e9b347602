// The reference network against finite differences: every layer type's backward is the gradient of the loss.
import { describe, expect, it } from 'vitest'
import { evaluateSums, trainStep } from '../../model/network.ts'
import { initParams } from '../../model/params.ts'
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { parseModelSpec } from '../../model/spec.ts'
import { applyParts, densify, type Path } from '../../model/update.ts'
import { mulberry32 } from '../../model/random.ts'

function setup(layers: unknown[], input: { features: number; classes: number; imageShape?: [number, number] }, seed = 3) {
  const plan = planModel(parseModelSpec({ layers, seed }), input)
  const rand = mulberry32(seed)
  const params = initParams(plan)
  for (const t of plan.tensors) if (t.role === 'bias') for (let i = 0; i < t.size; i++) params[t.offset + i] = 0.1 * (rand() - 0.5)
  const n = 5
  const X = Float32Array.from({ length: n * plan.inputSize }, () => rand())
  const y = Uint8Array.from({ length: n }, () => Math.floor(rand() * input.classes))
  return { plan, params, X, y, n, rand }
}

/** The gradient of the summed loss as one arena-sized vector, from the parts (scale 1 = +gradient). */
function gradient(plan: ModelPlan, params: Float32Array, X: Float32Array, y: Uint8Array, n: number, paths: Path[]): Float64Array {
  const step = trainStep(plan, params, X, y, 0, n, 1, paths)
  const g = new Float32Array(plan.size)
  applyParts(g, plan.tensors, step.parts, n)
  return Float64Array.from(g)
}

function lossAt(plan: ModelPlan, params: Float32Array, X: Float32Array, y: Uint8Array, n: number): number {
  return evaluateSums(plan, params, X, y, n).loss
}

const cases: Array<{ name: string; layers: unknown[]; input: { features: number; classes: number; imageShape?: [number, number] } }> = [
  { name: 'dense tanh → dense softmax', layers: [{ type: 'dense', units: 7, activation: 'tanh' }, { type: 'dense', units: 4, activation: 'softmax' }], input: { features: 9, classes: 4 } },
  { name: 'dense sigmoid, no bias → dense', layers: [{ type: 'dense', units: 5, activation: 'sigmoid', useBias: false }, { type: 'dense', units: 3 }], input: { features: 6, classes: 3 } },
  {
    name: 'conv valid stride 1 → pool 2 → flatten → dense',
    layers: [{ type: 'conv2d', filters: 3, kernelSize: 3, activation: 'tanh' }, { type: 'maxPooling2d', poolSize: 2 }, { type: 'flatten' }, { type: 'dense', units: 3, activation: 'softmax' }],
    input: { features: 7 * 7, classes: 3, imageShape: [7, 7] },
  },
  {
    name: 'conv same stride 2 (2 channels in) → conv 1×3 → flatten → dense',
    layers: [
      { type: 'conv2d', filters: 2, kernelSize: [3, 2], strides: 2, padding: 'same', activation: 'sigmoid' },
      { type: 'conv2d', filters: 3, kernelSize: [1, 3], padding: 'same', activation: 'tanh' },
      { type: 'flatten' },
      { type: 'dense', units: 4, activation: 'softmax' },
    ],
    input: { features: 5 * 6 * 2, classes: 4, imageShape: [5, 6] },
  },
  {
    name: 'pool same, stride 1 → flatten → dense relu → dense',
    layers: [{ type: 'maxPooling2d', poolSize: 3, strides: 1, padding: 'same' }, { type: 'flatten' }, { type: 'dense', units: 6, activation: 'relu' }, { type: 'dense', units: 2, activation: 'softmax' }],
    input: { features: 4 * 4, classes: 2, imageShape: [4, 4] },
  },
]

describe('the reference network', () => {
  it.each(cases)('backward is the gradient of the loss: $name', ({ layers, input }) => {
    const { plan, params, X, y, n, rand } = setup(layers, input)
    const paths = plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps')) as Path[]
    const g = gradient(plan, params, X, y, n, paths)
    const eps = 1e-3
    let checked = 0
    for (const t of plan.tensors) {
      for (let s = 0; s < Math.min(6, t.size); s++) {
        const i = t.offset + Math.floor(rand() * t.size)
        const old = params[i]
        params[i] = old + eps
        const up = lossAt(plan, params, X, y, n)
        params[i] = old - eps
        const down = lossAt(plan, params, X, y, n)
        params[i] = old
        const fd = (up - down) / (2 * eps)
        expect(Math.abs(g[i] - fd), `${t.name}[${i - t.offset}]: backward ${g[i]}, finite difference ${fd}`).toBeLessThan(3e-3 + 2e-2 * Math.abs(fd))
        checked++
      }
    }
    expect(checked).toBeGreaterThan(plan.tensors.length)
  })

  it('a kernel sent as factors makes the same change as the dense delta', () => {
    const { plan, params, X, y, n } = setup(cases[0].layers, cases[0].input)
    const sf = trainStep(plan, params, X, y, 0, n, -0.1, plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps')))
    const ps = trainStep(plan, params, X, y, 0, n, -0.1, plan.tensors.map(() => 'ps'))
    expect(sf.parts.map((p) => p.form)).toEqual(['factors', 'dense', 'factors', 'dense'])
    expect(ps.parts.map((p) => p.form)).toEqual(['dense', 'dense', 'dense', 'dense'])
    expect(sf.parts[0].floats.length).toBe(n * (7 + 9))
    for (const [i, p] of sf.parts.entries()) {
      const a = densify(plan.tensors[p.tensor], p, n)
      const b = ps.parts[i].floats
      for (let k = 0; k < a.length; k++) expect(a[k]).toBeCloseTo(b[k], 6)
    }
    expect(sf.loss).toBe(ps.loss)
  })

  it('one step with scale −lr/B lowers the batch loss', () => {
    const { plan, params, X, y, n } = setup(cases[2].layers, cases[2].input)
    const before = lossAt(plan, params, X, y, n)
    const step = trainStep(plan, params, X, y, 0, n, -0.05 / n, plan.tensors.map(() => 'ps'))
    expect(step.loss).toBeCloseTo(before, 4)
    applyParts(params, plan.tensors, step.parts, n)
    expect(lossAt(plan, params, X, y, n)).toBeLessThan(before)
  })
})
