// The acceptance rule: honest steps of every model kind pass, on any path; scaled, flipped, huge and empty ones fail.
import { describe, expect, it } from 'vitest'
import { structureProblem } from '../../apps/sgd/checks.ts'
import { builtinDataset } from '../../coordinator/data/index.ts'
import { normBounds, UpdateGuard } from '../../coordinator/core/guard.ts'
import { clipParts, partNorm } from '../../model/clip.ts'
import { trainStep } from '../../model/network.ts'
import { initParams } from '../../model/params.ts'
import { planModel } from '../../model/plan.ts'
import { presetSpec } from '../../model/spec.ts'
import { applyParts, type Part, type Path } from '../../model/update.ts'

const data = builtinDataset({ seed: 3, train: 400, test: 10 })
const B = 8
const lr = 0.05

function setup(model: string, pathsFor: (factorable: boolean) => Path) {
  const plan = planModel(presetSpec(model, data.classes), data)
  const params = initParams(plan)
  const paths = plan.tensors.map((t) => pathsFor(t.factorable))
  const guard = new UpdateGuard(plan, normBounds(plan, params, data.train.x, data.train.y, 50, B, 20))
  // an honest worker's step: clipped to the job's bounds
  const step = (row0: number, p = params) => clipParts(plan.tensors, trainStep(plan, p, data.train.x, data.train.y, row0, B, -lr / B, paths).parts, B, lr, guard.bounds).parts
  const ctx = (row0: number) => ({ lr, rows: B, x: data.train.x.subarray(row0 * plan.inputSize, (row0 + B) * plan.inputSize), y: data.train.y.subarray(row0, row0 + B) })
  return { plan, params, guard, step, ctx }
}

const map = (parts: Part[], f: (v: number, p: Part, i: number) => number) => parts.map((p) => ({ ...p, floats: p.floats.map((v, i) => f(v, p, i)) }))

const kinds: Array<[string, string, (f: boolean) => Path]> = [
  ['mlr', 'all ps', () => 'ps'],
  ['mlr', 'sf kernel', (f) => (f ? 'sf' : 'ps')],
  ['mlp:32', 'sf kernels', (f) => (f ? 'sf' : 'ps')],
  ['mlp:32', 'all ps', () => 'ps'],
  ['cnn', 'sf dense kernels', (f) => (f ? 'sf' : 'ps')],
]

describe('UpdateGuard', () => {
  it.each(kinds)('%s (%s): 40 honest steps of a training run all pass', (model, _, paths) => {
    const { plan, params, guard, step, ctx } = setup(model, paths)
    const p = params.slice()
    for (let i = 0; i < 40; i++) {
      const row0 = (i * B) % (data.train.n - B)
      const parts = step(row0, p)
      expect(guard.check(parts, ctx(row0))).toBeNull()
      applyParts(p, plan.tensors, parts, B)
    }
  })

  // Honest steps on hard batches reach 15–30× the recent median near convergence and, on a CNN at lr 0.5, 30× the
  // reference median: a bound that follows recent norms quarantined honest workers. Workers clip to the bounds, so
  // every honest update passes, however training goes; scaled ones still fail.
  it.each([['mlr'], ['mlp:32'], ['cnn']])('%s at lr 0.5, B 4: honest clipped steps up to convergence all pass, and ×−1000 of the last ones fail', (model) => {
    const b = 4
    const rate = 0.5
    const steps = model === 'cnn' ? 200 : 1500
    const plan = planModel(presetSpec(model, data.classes), data)
    const p = initParams(plan)
    const paths = plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps') as Path)
    const guard = new UpdateGuard(plan, normBounds(plan, p, data.train.x, data.train.y, 50, b, 20))
    let refused = 0
    for (let i = 0; i < steps; i++) {
      const row0 = (i * b) % (data.train.n - b)
      const c = { lr: rate, rows: b, x: data.train.x.subarray(row0 * plan.inputSize, (row0 + b) * plan.inputSize), y: data.train.y.subarray(row0, row0 + b) }
      const { parts } = clipParts(plan.tensors, trainStep(plan, p, data.train.x, data.train.y, row0, b, -rate / b, paths).parts, b, rate, guard.bounds)
      expect(guard.check(parts, c)).toBeNull()
      if (i >= steps - 20 && guard.check(map(parts, (v) => v * -1000), c)) refused++
      applyParts(p, plan.tensors, parts, b)
    }
    expect(refused).toBe(20)
  })

  it('clipping: a part over its bound is scaled to just under it (U only), and step + excess = the clipped update', () => {
    const { plan, params, guard } = setup('mlp:32', (f) => (f ? 'sf' : 'ps'))
    const paths = plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps') as Path)
    // a big step: 100× the rate the bounds were set for, per unit of rate 100× over
    const raw = trainStep(plan, params, data.train.x, data.train.y, 0, B, (-100 * lr) / B, paths).parts
    const { parts, excess } = clipParts(plan.tensors, raw, B, lr, guard.bounds)
    expect(excess.length).toBeGreaterThan(0)
    for (const [i, q] of parts.entries()) {
      const t = plan.tensors[q.tensor]
      const bound = guard.bounds[q.form][q.tensor]
      expect(partNorm(t, q, B) / lr).toBeLessThanOrEqual(bound)
      if (partNorm(t, raw[i], B) / lr > bound) expect(partNorm(t, q, B) / lr).toBeGreaterThan(0.99 * bound)
      if (q.form === 'factors') expect(q.floats.subarray(B * t.rows)).toEqual(raw[i].floats.subarray(B * t.rows))
    }
    const viaExcess = params.slice()
    applyParts(viaExcess, plan.tensors, raw, B)
    applyParts(viaExcess, plan.tensors, excess, B)
    const direct = params.slice()
    applyParts(direct, plan.tensors, parts, B)
    let diff = 0
    for (let i = 0; i < direct.length; i++) diff = Math.max(diff, Math.abs(direct[i] - viaExcess[i]))
    expect(diff).toBeLessThan(1e-5)
  })

  it.each(kinds)('%s (%s): ×1e6, ×−1000 and ±3e38 fail', (model, _, paths) => {
    const { guard, step, ctx } = setup(model, paths)
    const parts = step(0)
    const why = /not a softmax gradient|outside|over the bound|sums to|larger than|not the batch/
    expect(guard.check(map(parts, (v) => v * 1e6), ctx(0))).toMatch(why)
    expect(guard.check(map(parts, (v) => v * -1000), ctx(0))).toMatch(why)
    expect(guard.check(map(parts, (_, __, i) => (i % 2 ? 3e38 : -3e38)), ctx(0))).not.toBeNull()
  })

  it('an empty update fails where the first layer travels as factors (its V must be the batch)', () => {
    const { guard, step, ctx } = setup('mlp:32', (f) => (f ? 'sf' : 'ps'))
    expect(guard.check(map(step(0), () => 0), ctx(0))).toMatch(/dense_1\/kernel: its factor V is not the batch's inputs/)
  })

  it('an update computed on another batch than the leased one fails: labels and inputs are checked', () => {
    const { guard, step, ctx } = setup('mlp:32', (f) => (f ? 'sf' : 'ps'))
    expect(guard.check(step(B), ctx(0))).not.toBeNull()
  })

  it('the output layer’s softmax structure names the tensor and the row', () => {
    const { plan, step, ctx } = setup('mlr', (f) => (f ? 'sf' : 'ps'))
    const parts = step(0)
    parts[0].floats[3] += lr / B / 2 // U[0, 3]: the row no longer sums to 0
    expect(structureProblem(plan, parts, ctx(0))).toMatch(/dense_1\/kernel: (row 0 of U sums|U\[0, 3\])/)
  })
})
