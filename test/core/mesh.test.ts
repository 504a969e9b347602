// The job's mesh: joiners are handed peers that are under the link cap, so no tab holds more than `peerLinks` links
// either way, whatever the job's size and churn; signaling only between linked pairs.
import { describe, expect, it } from 'vitest'
import type { Outbox } from '../../coordinator/core/job.ts'
import { mulberry32 } from '../helpers/random.ts'
import { tinyJob } from '../helpers/tiny-data.ts'

const quiet: Outbox = { send() {}, evict() {} }

describe('bounded-degree mesh', () => {
  it('keeps every member at peerLinks links or fewer, both ways, through 2,000 joins and random departures', () => {
    const cap = 5
    const job = tinyJob(quiet, () => 0, { peerLinks: cap, minWorkers: 1 })
    const rand = mulberry32(9)
    const live: string[] = []
    let handed = 0
    for (let i = 0; i < 2000; i++) {
      const id = `w${i}`
      const r = job.hello(id, { type: 'hello', engine: 'cpu' })
      if (!r.ok) throw new Error(r.reason)
      expect(r.peers.length).toBeLessThanOrEqual(cap)
      handed += r.peers.length
      job.ready(id)
      live.push(id)
      if (rand() < 0.3) job.leave(live.splice(Math.floor(rand() * live.length), 1)[0])
    }
    for (const w of live) {
      const mine = job.linksOf(w)
      expect(mine.size).toBeLessThanOrEqual(cap)
      for (const p of mine) {
        expect(job.members.has(p)).toBe(true)
        expect(job.linksOf(p).has(w)).toBe(true) // symmetric
      }
    }
    // the mesh is not starved: each link is two members' (a joiner gets about cap/2, later joiners fill it up), and
    // members sit at or near the cap
    expect(handed / 2000).toBeGreaterThan(cap / 2)
    const degrees = live.map((w) => job.linksOf(w).size)
    expect(degrees.reduce((a, b) => a + b, 0) / degrees.length).toBeGreaterThan(cap - 1)
  })

  it('refuses signaling between members the coordinator did not link', () => {
    const job = tinyJob(quiet, () => 0, { peerLinks: 1 })
    job.hello('a', { type: 'hello', engine: 'cpu' })
    const b = job.hello('b', { type: 'hello', engine: 'cpu' }) // linked with a, which is then full
    const c = job.hello('c', { type: 'hello', engine: 'cpu' })
    if (!b.ok || !c.ok) throw new Error('hello refused')
    expect(b.peers).toEqual(['a'])
    expect(c.peers).toEqual([])
    const data = { type: 'offer' as const, sdp: 'v=0' }
    expect(job.signal('b', { type: 'signal', to: 'a', data })).toEqual({ ok: true })
    expect(job.signal('a', { type: 'signal', to: 'b', data })).toEqual({ ok: true })
    expect(job.signal('c', { type: 'signal', to: 'a', data })).toMatchObject({ ok: false, code: 'ERR_NOT_IN_JOB' })
    // a leaves: b has a link free for the next joiner
    job.leave('a')
    const d = job.hello('d', { type: 'hello', engine: 'cpu' })
    if (!d.ok) throw new Error('hello refused')
    expect(['b', 'c']).toContain(d.peers[0])
  })

  it('peerLinks 0: nobody is handed a peer, everything goes through the coordinator', () => {
    const job = tinyJob(quiet, () => 0, { peerLinks: 0 })
    job.hello('a', { type: 'hello', engine: 'cpu' })
    const b = job.hello('b', { type: 'hello', engine: 'cpu' })
    expect(b.ok && b.peers).toEqual([])
  })
})
