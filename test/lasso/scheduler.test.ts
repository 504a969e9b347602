// The Lasso schedulers: the sum tree draws ∝ weight, SAP keeps correlated columns apart and follows priorities,
// Shotgun draws distinct coordinates uniformly, sequential cycles.
import { describe, expect, it } from 'vitest'
import {
  SapScheduler,
  SequentialScheduler,
  ShotgunScheduler,
  SumTree,
  makeScheduler,
} from '../../apps/lasso/scheduler.ts'
import { column, type RegressionData } from '../../apps/lasso/types.ts'
import { gaussian, mulberry32 } from '../../model/random.ts'
import { blockColumns } from '../helpers/lasso-blocks.ts'

/** Blocks of `block` columns sharing a factor (pairwise correlation ≈ rho), centred and unit-norm; y a noisy sum. */
function blockData(n: number, p: number, block: number, rho: number, seed: number): RegressionData {
  const rand = mulberry32(seed)
  const x = blockColumns(n, p, block, rho, rand)
  const y = new Float32Array(n)
  for (let i = 0; i < n; i++) y[i] = 3 * x[i] - 2 * x[(block + 1) * n + i] + 0.3 * gaussian(rand)
  let mean = 0
  for (let i = 0; i < n; i++) mean += y[i]
  for (let i = 0; i < n; i++) y[i] -= mean / n
  return { name: 'blocks', n, p, x, y }
}

function cosine(d: RegressionData, j: number, k: number): number {
  const a = column(d, j)
  const b = column(d, k)
  let ab = 0
  let aa = 0
  let bb = 0
  for (let i = 0; i < d.n; i++) {
    ab += a[i] * b[i]
    aa += a[i] * a[i]
    bb += b[i] * b[i]
  }
  return ab / Math.sqrt(aa * bb)
}

const d = blockData(300, 120, 6, 0.9, 3)

describe('SumTree', () => {
  it('draws each index ∝ its weight: 10× the weight, about 10× the draws; weight 0, never', () => {
    const t = new SumTree(7) // not a power of two: the padding leaves must never come out
    for (let i = 0; i < 7; i++) t.set(i, 1)
    t.set(3, 10)
    t.set(5, 0)
    expect(t.total).toBe(15)
    const rand = mulberry32(11)
    const counts = new Array<number>(8).fill(0)
    const draws = 60_000
    for (let s = 0; s < draws; s++) counts[t.sample(rand())]++
    expect(counts[5]).toBe(0)
    expect(counts[7]).toBe(0)
    const ones = [0, 1, 2, 4, 6].map((i) => counts[i])
    for (const c of ones) expect(c / draws).toBeCloseTo(1 / 15, 2)
    const mean = ones.reduce((s, c) => s + c, 0) / ones.length
    expect(counts[3] / mean).toBeGreaterThan(9.3)
    expect(counts[3] / mean).toBeLessThan(10.7)
  })

  it('keeps exact sums through many updates and follows a changed weight', () => {
    const t = new SumTree(1000)
    const rand = mulberry32(5)
    const w = new Float64Array(1000)
    for (let s = 0; s < 20_000; s++) {
      const i = Math.floor(rand() * 1000)
      w[i] = rand() < 0.5 ? 0 : rand() ** 4
      t.set(i, w[i])
    }
    expect(t.total).toBeCloseTo(w.reduce((s, v) => s + v, 0), 10)
    for (let i = 0; i < 1000; i++) t.set(i, i === 417 ? 2 : 0)
    expect(t.sample(0)).toBe(417)
    expect(t.sample(0.999999)).toBe(417)
  })
})

describe('SapScheduler', () => {
  it('returns distinct coordinates, never two whose columns correlate above the threshold', () => {
    const s = new SapScheduler(d, { seed: 4 })
    const rand = mulberry32(9)
    let sizes = 0
    for (let round = 0; round < 300; round++) {
      const js = s.pick(round, 8)
      expect(js.length).toBeLessThanOrEqual(8)
      expect(new Set(js).size).toBe(js.length)
      for (const j of js) expect(j >= 0 && j < d.p).toBe(true)
      for (let a = 0; a < js.length; a++) {
        for (let b = a + 1; b < js.length; b++) expect(Math.abs(cosine(d, js[a], js[b]))).toBeLessThanOrEqual(0.1)
      }
      for (const j of js) s.observe(j, rand() < 0.3 ? gaussian(rand) : 0)
      sizes += js.length
    }
    expect(sizes / 300).toBeGreaterThan(4) // it does run coordinates in parallel
    // and the data can catch a scheduler that ignores correlation: Shotgun puts same-block columns together
    const shotgun = new ShotgunScheduler(d.p, { seed: 4 })
    let correlated = 0
    for (let round = 0; round < 50; round++) {
      const js = shotgun.pick(round, 8)
      for (let a = 0; a < js.length; a++) {
        for (let b = a + 1; b < js.length; b++) if (Math.abs(cosine(d, js[a], js[b])) > 0.1) correlated++
      }
    }
    expect(correlated).toBeGreaterThan(0)
  })

  it('follows priorities: a coordinate that moved a lot is picked first, and a tighter threshold keeps fewer', () => {
    const s = new SapScheduler(d, { seed: 2 })
    for (let j = 0; j < d.p; j++) s.observe(j, 0)
    s.observe(37, 5)
    let first = 0
    for (let round = 0; round < 100; round++) if (s.pick(round, 4)[0] === 37) first++
    expect(first).toBeGreaterThan(95)
    expect(s.priority(37)).toBeGreaterThan(1000 * s.priority(36))

    const loose = new SapScheduler(d, { seed: 2, threshold: 1 })
    const tight = new SapScheduler(d, { seed: 2, threshold: 0.02 })
    let nLoose = 0
    let nTight = 0
    for (let round = 0; round < 50; round++) {
      const js = loose.pick(round, 8)
      expect(new Set(js).size).toBe(js.length) // distinct even when the check lets a column pair with itself
      nLoose += js.length
      nTight += tight.pick(round, 8).length
    }
    expect(nLoose).toBe(50 * 8)
    expect(nTight).toBeLessThan(nLoose / 2)
  })
})

describe('ShotgunScheduler', () => {
  it('returns `count` distinct coordinates, each about equally often', () => {
    const s = makeScheduler('shotgun', d, { seed: 8 })
    const counts = new Array<number>(d.p).fill(0)
    for (let round = 0; round < 3000; round++) {
      const js = s.pick(round, 8)
      expect(js.length).toBe(8)
      expect(new Set(js).size).toBe(8)
      for (const j of js) counts[j]++
    }
    const expected = (3000 * 8) / d.p // 200
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.7)
    expect(Math.max(...counts)).toBeLessThan(expected * 1.3)
    expect(new ShotgunScheduler(5).pick(0, 8).sort()).toEqual([0, 1, 2, 3, 4])
  })
})

describe('SequentialScheduler', () => {
  it('updates one coordinate a round, cycling through all of them', () => {
    const s = makeScheduler('sequential', d)
    expect(s).toBeInstanceOf(SequentialScheduler)
    const seen = Array.from({ length: 2 * d.p }, (_, round) => s.pick(round, 8))
    for (const js of seen) expect(js.length).toBe(1)
    expect(seen.map((js) => js[0])).toEqual([...Array(d.p).keys(), ...Array(d.p).keys()])
  })
})

describe('makeScheduler', () => {
  it('builds each kind', () => {
    expect(makeScheduler('sap', d)).toBeInstanceOf(SapScheduler)
    expect(makeScheduler('shotgun', d)).toBeInstanceOf(ShotgunScheduler)
    expect(makeScheduler('sequential', d)).toBeInstanceOf(SequentialScheduler)
  })
})
