import { describe, expect, it } from 'vitest'
import { PeerClocks } from '../../client/train/peer-clocks.ts'
import { mulberry32 } from '../helpers/random.ts'

describe('PeerClocks', () => {
  it('drops updates already inside the snapshot and duplicates', () => {
    const pc = new PeerClocks('me', { p: 4 })
    expect(pc.accept('p', 3, 2)).toBe(false)
    expect(pc.accept('p', 4, 3)).toBe(false)
    expect(pc.accept('p', 5, 4)).toBe(true)
    expect(pc.accept('p', 5, 4)).toBe(false)
    expect(pc.accept('me', 9, 8)).toBe(false)
    expect(pc.contig('p')).toBe(5)
  })

  it('chains out-of-order arrivals and clock jumps through prev', () => {
    const pc = new PeerClocks('me')
    expect(pc.accept('p', 7, 2)).toBe(true) // p jumped from 2 to 7 (it was idle)
    expect(pc.contig('p')).toBe(-1)
    expect(pc.accept('p', 1, 0)).toBe(true)
    expect(pc.accept('p', 2, 1)).toBe(true)
    expect(pc.contig('p')).toBe(-1)
    expect(pc.accept('p', 7, 2)).toBe(false) // duplicate while waiting in the chain
    expect(pc.accept('p', 0, -1)).toBe(true)
    expect(pc.contig('p')).toBe(7)
  })

  it('holds clock c until every update ≤ c−s−1 the coordinator had is applied', () => {
    const pc = new PeerClocks('me')
    const view = { min: 3, last: { me: 3, p: 2, q: 4 } }
    // s = 1, c = 4: need p and q up to clock 2
    expect(pc.missing(view, 4, 1)).toEqual([
      { peer: 'p', after: -1 },
      { peer: 'q', after: -1 },
    ])
    for (const c of [0, 1, 2]) pc.accept('p', c, c - 1)
    for (const c of [0, 1]) pc.accept('q', c, c - 1)
    expect(pc.missing(view, 4, 1)).toEqual([{ peer: 'q', after: 1 }])
    pc.accept('q', 2, 1)
    expect(pc.missing(view, 4, 1)).toEqual([])
    // a peer whose last update is older than the horizon only needs up to its last
    expect(pc.missing({ min: 10, last: { p: 2 } }, 20, 0)).toEqual([])
    expect(pc.missing(view, 0, 0)).toEqual([])
  })

  it('keeps waiting for a departed peer’s final updates', () => {
    const pc = new PeerClocks('me', { p: 1 })
    pc.left('p', 3)
    expect(pc.missing({ min: 9, last: {} }, 9, 0)).toEqual([{ peer: 'p', after: 1 }])
    expect(pc.behind({ min: 9, last: {} })).toEqual([{ peer: 'p', after: 1 }])
    pc.accept('p', 3, 2)
    pc.accept('p', 2, 1)
    expect(pc.behind({ min: 9, last: {} })).toEqual([])
  })

  it('ends contiguous after any delivery order of a random chain', () => {
    const rand = mulberry32(11)
    for (let trial = 0; trial < 20; trial++) {
      const clocks: number[] = []
      let c = -1
      for (let i = 0; i < 50; i++) clocks.push((c += 1 + Math.floor(rand() * 3)))
      const msgs = clocks.map((k, i) => ({ clock: k, prev: i ? clocks[i - 1] : -1 }))
      const order = [...msgs, ...msgs.slice(0, 10)].sort(() => rand() - 0.5)
      const pc = new PeerClocks('me')
      let applied = 0
      for (const m of order) if (pc.accept('p', m.clock, m.prev)) applied++
      expect(applied).toBe(50)
      expect(pc.contig('p')).toBe(clocks[49])
    }
  })
})
