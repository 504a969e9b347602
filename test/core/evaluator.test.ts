// The test curve: one evaluation at a time, a duty cycle, the whole split for the first and final point, a fixed
// random subset between; the evaluation order is a seeded shuffle.
import { describe, expect, it } from 'vitest'
import { CURVE_SAMPLES, evaluationOrder, TestCurve } from '../../coordinator/core/evaluator.ts'

function fakeEvaluator() {
  const calls: number[] = []
  let release: () => void = () => {}
  const evaluator = (_p: Float32Array, n: number) => {
    calls.push(n)
    return new Promise<{ loss: number; accuracy: number }>((r) => (release = () => r({ loss: 1, accuracy: n / 10_000 })))
  }
  return { calls, evaluator, finish: () => release() }
}

describe('TestCurve', () => {
  it('evaluates the whole split first and last, a subset between, one at a time', async () => {
    let now = 0
    const f = fakeEvaluator()
    const curve = new TestCurve(f.evaluator, 5000, () => now)
    const params = new Float32Array(4)
    curve.maybe(params, 0, true)
    curve.maybe(params, 1, false) // busy: skipped
    expect(f.calls).toEqual([5000])
    now += 100
    f.finish()
    await curve.settled()
    curve.maybe(params, 2, false) // too soon after the last one
    now += 1000
    curve.maybe(params, 3, false)
    expect(f.calls).toEqual([5000, CURVE_SAMPLES])
    curve.maybe(params, 9, true) // the final one waits for the running one, then runs on everything
    f.finish()
    await Promise.resolve()
    await new Promise((r) => setTimeout(r, 0))
    f.finish()
    await curve.settled()
    expect(f.calls).toEqual([5000, CURVE_SAMPLES, 5000])
    expect(curve.points.map((p) => [p.clock, p.samples])).toEqual([
      [0, 5000],
      [3, CURVE_SAMPLES],
      [9, 5000],
    ])
    expect(curve.best).toBe(0.5)
  })

  it('orders the test split by a seeded shuffle, the same every time', () => {
    const J = 2
    const n = 50
    const test = { n, x: Float32Array.from({ length: n * J }, (_, i) => Math.floor(i / J)), y: Uint8Array.from({ length: n }, (_, i) => i % 7) }
    const a = evaluationOrder(test, J)
    const b = evaluationOrder(test, J)
    expect(a.x).toEqual(b.x)
    const rows = Array.from({ length: n }, (_, i) => a.x[i * J])
    expect(rows).not.toEqual(rows.slice().sort((p, q) => p - q))
    expect(rows.slice().sort((p, q) => p - q)).toEqual(Array.from({ length: n }, (_, i) => i))
    for (let i = 0; i < n; i++) expect(a.y[i]).toBe(rows[i] % 7)
  })
})
