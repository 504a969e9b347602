import { describe, expect, it } from 'vitest'
import { builtinDataset } from '../../coordinator/data/index.ts'
import { evaluate, trainStep } from '../../model/network.ts'
import { planModel } from '../../model/plan.ts'
import { presetSpec } from '../../model/spec.ts'
import { applyParts } from '../../model/update.ts'
import { sameBytes } from './fixtures.ts'

describe('builtinDataset', () => {
  const d = builtinDataset()

  it('is 6000 + 1000 28×28 digit images with pixels in [0, 1]', () => {
    expect(d).toMatchObject({ name: 'builtin', source: 'builtin', features: 784, classes: 10, imageShape: [28, 28] })
    expect(d.labels).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    expect([d.train.n, d.train.x.length, d.train.y.length]).toEqual([6000, 6000 * 784, 6000])
    expect([d.test.n, d.test.x.length, d.test.y.length]).toEqual([1000, 1000 * 784, 1000])
    let min = Infinity
    let max = -Infinity
    for (const v of d.train.x) {
      if (v < min) min = v
      if (v > max) max = v
    }
    expect(min).toBe(0)
    expect(max).toBe(1)
    const hist = new Array(10).fill(0)
    for (const c of d.train.y) hist[c]++
    for (const h of hist) expect(h).toBeGreaterThan(500) // about 600 each
  })

  it('gives identical bytes for the same seed and different ones for another', () => {
    const again = builtinDataset()
    expect(sameBytes(again.train.x, d.train.x)).toBe(true)
    expect(sameBytes(again.train.y, d.train.y)).toBe(true)
    expect(sameBytes(again.test.x, d.test.x)).toBe(true)
    const other = builtinDataset({ seed: 2 })
    expect(sameBytes(other.train.x, d.train.x)).toBe(false)
  })

  it('keeps sample i fixed whatever the sizes asked for', () => {
    const small = builtinDataset({ train: 100, test: 10 })
    expect(sameBytes(small.train.x, d.train.x.subarray(0, 100 * 784))).toBe(true)
    expect(sameBytes(small.test.x, d.test.x.subarray(0, 10 * 784))).toBe(true)
    expect(Array.from(small.train.y)).toEqual(Array.from(d.train.y.subarray(0, 100)))
  })

  it('generates the default set in under a second', () => {
    const t = performance.now()
    builtinDataset({ seed: 3 })
    expect(performance.now() - t).toBeLessThan(1000)
  })

  it('is learnable but not trivial: softmax regression goes from ~10% to 90–98% in one epoch', () => {
    const plan = planModel(presetSpec('mlr', d.classes), d)
    const p = new Float32Array(plan.size)
    const B = 8
    const lr = 0.2
    const initial = evaluate(plan, p, d.test.x, d.test.y, d.test.n).accuracy
    for (let r = 0; r + B <= d.train.n; r += B) {
      const step = trainStep(plan, p, d.train.x, d.train.y, r, B, -lr / B, ['ps', 'ps'])
      applyParts(p, plan.tensors, step.parts, B)
    }
    const after = evaluate(plan, p, d.test.x, d.test.y, d.test.n).accuracy
    expect(initial).toBeLessThan(0.3)
    expect(after).toBeGreaterThanOrEqual(0.9)
    expect(after).toBeLessThan(0.98) // label noise and variation keep it off 100%
  })
})
