import { describe, expect, it } from 'vitest'
import { IdPool } from '../../coordinator/core/id-pool.ts'
import { mulberry32 } from '../helpers/random.ts'

describe('IdPool', () => {
  it('picks k distinct members uniformly, all of them when there are few, and forgets the removed', () => {
    const p = new IdPool(mulberry32(1))
    for (let i = 0; i < 3; i++) p.add(`w${i}`)
    expect(p.pick(16).sort()).toEqual(['w0', 'w1', 'w2'])
    for (let i = 3; i < 100; i++) p.add(`w${i}`)
    p.remove('w5')
    p.remove('w99')
    p.remove('nobody')
    expect(p.size).toBe(98)
    const seen = new Map<string, number>()
    for (let r = 0; r < 2000; r++) {
      const got = p.pick(10)
      expect(new Set(got).size).toBe(10)
      for (const id of got) seen.set(id, (seen.get(id) ?? 0) + 1)
    }
    expect(seen.has('w5') || seen.has('w99')).toBe(false)
    expect(seen.size).toBe(98)
    // 2000 draws of 10 among 98: about 204 each
    for (const n of seen.values()) expect(n).toBeGreaterThan(130)
    for (const n of seen.values()) expect(n).toBeLessThan(290)
  })
})
