import { describe, expect, it } from 'vitest'
import { ShardLedger } from '../../coordinator/core/ledger.ts'
import { mulberry32 } from '../helpers/random.ts'

describe('ShardLedger', () => {
  it('hands out each (epoch, shard) once, lowest epoch first', () => {
    const l = new ShardLedger(3, 2)
    const got = [] as Array<[number, number]>
    for (let i = 0; i < 6; i++) {
      const x = l.lease('w', 0)!
      got.push([x.epoch, x.shard])
      l.complete(x.id, 'w')
    }
    expect(got).toEqual([[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]])
    expect(l.lease('w', 0)).toBeNull()
    expect(l.done).toBe(true)
    expect(l.report().map((e) => e.processed)).toEqual([3, 3])
  })

  it('returns an expired lease to the front of the pool and refuses its late completion', () => {
    const l = new ShardLedger(4, 1)
    const a = l.lease('a', 0)!
    const b = l.lease('b', 0)!
    expect(l.release('a').map((x) => x.shard)).toEqual([a.shard])
    expect(l.complete(a.id, 'a')).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    const again = l.lease('c', 0)!
    expect(again.shard).toBe(a.shard)
    expect(l.complete(b.id, 'a')).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(l.complete(b.id, 'b')).toMatchObject({ shard: b.shard })
  })

  it('processes every shard exactly once per epoch however workers vanish', () => {
    const rand = mulberry32(7)
    const l = new ShardLedger(20, 3)
    const workers = ['a', 'b', 'c', 'd']
    let guard = 0
    while (!l.done && guard++ < 10_000) {
      const w = workers[Math.floor(rand() * workers.length)]
      const r = rand()
      const held = l.leasesOf(w)[0]
      if (r < 0.1) l.release(w)
      else if (held) l.complete(held.id, w)
      else l.lease(w, guard)
    }
    expect(l.done).toBe(true)
    for (const e of l.report()) {
      expect(e.processed).toBe(20)
      expect(e.missing).toEqual([])
    }
    expect(l.processors(1).every((w) => w !== undefined)).toBe(true)
  })

  it('knows each worker’s leases through grants, completions, releases and expiries', () => {
    const l = new ShardLedger(6, 1)
    const a1 = l.lease('a', 0)!
    const a2 = l.lease('a', 0)!
    const b1 = l.lease('b', 0)!
    expect(l.leasesOf('a').map((x) => x.id)).toEqual([a1.id, a2.id])
    expect(l.leasesOf('b').map((x) => x.id)).toEqual([b1.id])
    l.complete(a1.id, 'a')
    expect(l.leasesOf('a').map((x) => x.id)).toEqual([a2.id])
    l.expire(a2.id)
    expect(l.leasesOf('a')).toEqual([])
    expect(l.release('b').map((x) => x.id)).toEqual([b1.id])
    expect(l.leasesOf('b')).toEqual([])
    expect(l.outstanding()).toEqual([])
    // a worker's lease is its own: another cannot complete it
    const c = l.lease('c', 0)!
    expect(l.complete(c.id, 'a')).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(l.leasesOf('c').map((x) => x.id)).toEqual([c.id])
  })

  it('hands out the same pairs as a plain sorted pool through leases, expiries, reopens and a restore', () => {
    // the reference: every (epoch, shard) in one sorted array, shifted and spliced
    const rand = mulberry32(11)
    const shards = 7
    const epochs = 4
    const done = [[0, 2], [0, 3], [1, 5], [3, 0]].map(([epoch, shard]) => ({ epoch, shard, worker: 'old' }))
    const l = new ShardLedger(shards, epochs)
    l.restore(done)
    const key = (e: number, s: number) => e * shards + s
    const pool: number[] = []
    for (let k = 0; k < shards * epochs; k++) if (!done.some((d) => key(d.epoch, d.shard) === k)) pool.push(k)
    const back = (k: number) => {
      pool.push(k)
      pool.sort((a, b) => a - b)
    }
    const finished: Array<{ epoch: number; shard: number; worker: string }> = [...done]
    const workers = ['a', 'b', 'c']
    let steps = 0
    while (!l.done && steps++ < 5000) {
      const w = workers[Math.floor(rand() * workers.length)]
      const r = rand()
      const held = l.leasesOf(w)
      if (r < 0.45) {
        const x = l.lease(w, steps)
        expect(x && key(x.epoch, x.shard)).toBe(pool.shift() ?? null)
      } else if (r < 0.75 && held.length) {
        l.complete(held[0].id, w)
        finished.push({ epoch: held[0].epoch, shard: held[0].shard, worker: w })
      } else if (r < 0.9) {
        for (const x of l.release(w)) back(key(x.epoch, x.shard))
      } else if (finished.length) {
        // a quarantine takes back a completed shard, one restored from before a restart included
        const f = finished.splice(Math.floor(rand() * finished.length), 1)[0]
        expect(l.reopen(f.epoch, f.shard, f.worker)).toBe(true)
        back(key(f.epoch, f.shard))
      }
      expect(l.processed).toBe(finished.length)
    }
    expect(l.done).toBe(true)
    expect(pool).toEqual([])
    expect(l.report().flatMap((e) => e.missing)).toEqual([])
  })

  it('hands a pair completed before a restart and then taken back out once', () => {
    const l = new ShardLedger(3, 2)
    l.restore([{ epoch: 1, shard: 1, worker: 'old' }])
    expect(l.reopen(1, 1, 'old')).toBe(true)
    const got: string[] = []
    for (let x = l.lease('w', 0); x; x = l.lease('w', 0)) got.push(`${x.epoch}:${x.shard}`)
    expect(got).toEqual(['0:0', '0:1', '0:2', '1:0', '1:1', '1:2'])
  })
})

