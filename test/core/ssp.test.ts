import { describe, expect, it } from 'vitest'
import { SspTable } from '../../coordinator/core/ssp.ts'
import { mulberry32 } from '../helpers/random.ts'

/** Drives workers that each try to tick whenever the bound lets them, in a random order. */
function simulate(s: number, workers: number, steps: number, seed: number) {
  const t = new SspTable(s)
  const rand = mulberry32(seed)
  const ids = Array.from({ length: workers }, (_, i) => `w${i}`)
  for (const id of ids) {
    t.join(id)
    t.activate(id)
  }
  let maxSpread = 0
  for (let k = 0; k < steps; k++) {
    const id = ids[Math.floor(rand() * ids.length)]
    const c = t.clockOf(id)!
    if (!t.mayStart(c)) {
      // the worker would wait: the table must refuse the update too
      expect(t.record(id, c, t.lastOf(id))).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
      continue
    }
    const r = t.record(id, c, t.lastOf(id))
    expect(r).toHaveProperty('moved')
    const clocks = ids.map((i) => t.clockOf(i)!)
    maxSpread = Math.max(maxSpread, Math.max(...clocks) - Math.min(...clocks))
  }
  return { t, maxSpread }
}

describe('SspTable', () => {
  it.each([0, 1, 3, 10])('keeps every worker within s=%i clocks of the slowest under random tick orders', (s) => {
    for (const seed of [1, 2, 3]) {
      const { t, maxSpread } = simulate(s, 5, 2000, seed)
      // a worker at clock c ≤ min + s may finish it, so finished counts differ by at most s + 1
      expect(maxSpread).toBeLessThanOrEqual(s + 1)
      expect(t.maxObservedStaleness).toBeLessThanOrEqual(s)
      expect(t.min).toBeGreaterThan(0)
    }
  })

  it('s=0 behaves as BSP: nobody starts clock c+1 before everyone finished c', () => {
    const t = new SspTable(0)
    for (const id of ['a', 'b', 'c']) {
      t.join(id)
      t.activate(id)
    }
    expect(t.record('a', 0, -1)).toEqual({ moved: false })
    expect(t.mayStart(1)).toBe(false)
    expect(t.record('a', 1, 0)).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
    t.record('b', 0, -1)
    expect(t.record('c', 0, -1)).toEqual({ moved: true })
    expect(t.min).toBe(1)
    expect(t.mayStart(1)).toBe(true)
    expect(t.maxObservedStaleness).toBe(0)
  })

  it('a departure releases the workers waiting on it', () => {
    const t = new SspTable(1)
    for (const id of ['fast', 'slow']) {
      t.join(id)
      t.activate(id)
    }
    t.record('fast', 0, -1)
    t.record('fast', 1, 0)
    expect(t.mayStart(2)).toBe(false)
    const r = t.remove('slow')
    expect(r).toEqual({ last: -1, moved: true })
    expect(t.mayStart(2)).toBe(true)
  })

  it('idle workers do not hold the others back, and rejoin at the min clock', () => {
    const t = new SspTable(0)
    for (const id of ['a', 'b']) {
      t.join(id)
      t.activate(id)
    }
    t.record('a', 0, -1)
    expect(t.deactivate('b')).toBe(true)
    t.record('a', 1, 0)
    t.record('a', 2, 1)
    expect(t.activate('b')).toBe(3)
    expect(t.record('b', 3, -1)).toEqual({ moved: false })
  })

  it('rejects a clock that is not the next one, or a wrong prev', () => {
    const t = new SspTable(5)
    t.join('a')
    t.activate('a')
    expect(t.record('a', 1, -1)).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
    expect(t.record('a', 0, 3)).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
    expect(t.record('ghost', 0, -1)).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(t.clockOf('a')).toBe(0)
  })
})
