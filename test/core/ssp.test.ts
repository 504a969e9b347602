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
      expect(t.record(id, c, t.chainOf(id))).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
      continue
    }
    const r = t.record(id, c, t.chainOf(id))
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
    expect(t.record('a', 0, -1)).toEqual({ clock: 0, moved: false })
    expect(t.mayStart(1)).toBe(false)
    expect(t.record('a', 1, 0)).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
    t.record('b', 0, -1)
    expect(t.record('c', 0, -1)).toEqual({ clock: 0, moved: true })
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
    expect(t.record('b', 3, -1)).toEqual({ clock: 3, moved: false })
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

  describe('a joiner is on probation until its first update is accepted', () => {
    /** a and b started the job (BSP) and each finished clock 0, so joiners from now on are on probation */
    function started() {
      const t = new SspTable(0)
      for (const id of ['a', 'b']) {
        t.join(id)
        t.activate(id)
      }
      t.record('a', 0, -1)
      t.record('b', 0, -1)
      return t
    }

    it('one that leases and never sends holds nobody back', () => {
      const t = started()
      t.join('staller')
      expect(t.activate('staller')).toBe(1)
      expect(t.isCounted('staller')).toBe(false)
      for (let c = 1; c < 6; c++) {
        t.record('a', c, c - 1)
        expect(t.record('b', c, c - 1)).toEqual({ clock: c, moved: true })
      }
      expect(t.min).toBe(6)
    })

    it('its late first update is re-based to the min, then it counts like everyone', () => {
      const t = started()
      t.join('new')
      expect(t.activate('new')).toBe(1)
      for (let c = 1; c < 4; c++) for (const id of ['a', 'b']) t.record(id, c, c - 1)
      expect(t.min).toBe(4)
      expect(t.record('new', 2, -1)).toMatchObject({ ok: false, code: 'ERR_CLOCK' }) // never later than its stamp
      expect(t.record('new', 1, -1)).toEqual({ clock: 4, moved: false })
      expect(t.rebased).toBe(1)
      expect(t.isCounted('new')).toBe(true)
      expect(t.lastOf('new')).toBe(4)
      // now it holds the others back like anyone: a and b finish clocks 4 and 5, the min waits at 5 for it
      t.record('a', 4, 3)
      expect(t.record('b', 4, 3)).toEqual({ clock: 4, moved: true })
      t.record('a', 5, 4)
      expect(t.record('b', 5, 4)).toEqual({ clock: 5, moved: false })
      expect(t.min).toBe(5)
      expect(t.mayStart(6)).toBe(false)
      expect(t.record('new', 5, 4)).toEqual({ clock: 5, moved: true })
      expect(t.min).toBe(6)
    })

    it('on time, a first update keeps its clock', () => {
      const t = started()
      t.join('new')
      t.activate('new')
      expect(t.record('new', 1, -1)).toEqual({ clock: 1, moved: false })
      expect(t.rebased).toBe(0)
    })

    it('counts at once where nobody else counts', () => {
      const t = started()
      t.join('new')
      t.activate('new')
      t.remove('a')
      expect(t.remove('b')).toEqual({ last: 0, moved: false })
      expect(t.isCounted('new')).toBe(true)
      expect(t.mayStart(2)).toBe(false)
      expect(t.record('new', 1, -1)).toEqual({ clock: 1, moved: true })
    })

    it('keeps the bound under random ticks, joins and departures: an update always counts at a clock ≥ the min', () => {
      for (const s of [0, 2]) {
        const t = new SspTable(s)
        const rand = mulberry32(7 + s)
        const live: string[] = []
        let n = 0
        const join = () => {
          const id = `w${n++}`
          t.join(id)
          t.activate(id)
          live.push(id)
        }
        for (let i = 0; i < 4; i++) join()
        for (let k = 0; k < 4000; k++) {
          const r = rand()
          if (r < 0.01) join()
          else if (r < 0.02 && live.length > 1) t.remove(live.splice(Math.floor(rand() * live.length), 1)[0])
          else {
            const id = live[Math.floor(rand() * live.length)]
            const c = t.clockOf(id)!
            if (!t.mayStart(c)) continue
            const min = t.min
            const got = t.record(id, c, t.chainOf(id))
            if (!('moved' in got)) throw new Error(got.reason)
            expect(got.clock).toBeGreaterThanOrEqual(min)
            const counted = live.filter((w) => t.isCounted(w)).map((w) => t.clockOf(w)!)
            expect(Math.max(...counted) - Math.min(...counted)).toBeLessThanOrEqual(s + 1)
            expect(Math.min(...counted)).toBe(t.min)
          }
        }
        expect(t.min).toBeGreaterThan(100)
        expect(t.maxObservedStaleness).toBeLessThanOrEqual(s)
      }
    })
  })
})
