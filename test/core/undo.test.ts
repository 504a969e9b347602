// A quarantine takes back what the offender added since its last verified update, on the coordinator and in the
// correction every other replica gets; its completed shards go back to the pool.
import { describe, expect, it } from 'vitest'
import type { Outbox } from '../../coordinator/core/job.ts'
import { Unverified } from '../../coordinator/core/undo.ts'
import { maxAbsDiff } from '../../model/params.ts'
import { applyParts, type Part } from '../../model/update.ts'
import { unpackBinaries } from '../../protocol/bytes.ts'
import { encodeFrame, readAggregate, readFrame } from '../../protocol/frames.ts'
import type { Correction } from '../../protocol/messages.ts'
import { tinyJob, workerUpdate } from '../helpers/tiny-data.ts'

class Out implements Outbox {
  events: Array<{ to: string; event: string; msg: unknown }> = []
  evicted: string[] = []
  send(to: string, event: string, msg: unknown): void {
    this.events.push({ to, event, msg })
  }
  evict(worker: string): void {
    this.evicted.push(worker)
  }
}

describe('quarantine undoes the offender', () => {
  it('negates its updates since its last verified one on the replica, tells the others how, and reopens its shards', () => {
    const out = new Out()
    const job = tinyJob(out, () => 1000, { staleness: 2, batch: 4, shardSize: 10 })
    for (const w of ['a', 'b']) job.hello(w, { type: 'hello', engine: 'cpu' })
    for (const w of ['a', 'b']) job.ready(w)
    for (const w of ['a', 'b']) job.lease(w)
    const first = job.replica.params.slice()
    const honest: Part[][] = []
    // both work through their first shard (4 + 4 + 2 rows); a completes it
    for (const [c, rows] of [[0, 4], [1, 4], [2, 2]]) {
      for (const w of ['a', 'b']) {
        const u = workerUpdate(job, w, c, c - 1, rows)
        expect(job.update(w, u.msg), `${w} ${c}`).toEqual({ ok: true, clock: c })
        if (w === 'b') honest.push(u.parts)
      }
    }
    const lease = job.ledger.leasesOf('a')[0]
    expect(job.shardDone('a', { type: 'shard-done', lease: lease.id })).toEqual({ ok: true })
    expect(job.ledger.processed).toBe(1)
    expect(job.lease('a')).toMatchObject({ ok: true, lease: { clock: 3 } })
    expect(job.replica.frontier).toBe(2)
    // a's next update is ×1000: refused, a quarantined, and its three accepted updates (none verified) taken back
    const bad = workerUpdate(job, 'a', 3, 2, 4)
    const scaled = bad.parts.map((p) => ({ ...p, floats: p.floats.map((v) => v * 1000) }))
    expect(job.update('a', { ...bad.msg, frame: encodeFrame({ clock: 3, prev: 2, rows: 4, parts: scaled }) })).toMatchObject({ ok: false, code: 'ERR_BAD_UPDATE' })
    expect(out.evicted).toEqual(['a'])
    const want = first.slice()
    for (const [i, rows] of [4, 4, 2].entries()) applyParts(want, job.plan.tensors, honest[i], rows)
    expect(maxAbsDiff(job.replica.params, want)).toBeLessThan(1e-6)
    // b gets the same correction, before the departure, which cuts a at the same clock
    const toB = out.events.filter((e) => e.to === 'b' && (e.event === 'correction' || e.event === 'peer-left'))
    expect(toB.map((e) => e.event)).toEqual(['correction', 'peer-left'])
    const c = toB[0].msg as Correction
    expect(c).toMatchObject({ seq: 0, from: 'a', after: -1 })
    expect(unpackBinaries(c.frames).map((f) => readFrame(f, job.plan.tensors, { expect: 'sf', maxRows: 4 }).clock)).toEqual([0, 1, 2])
    expect(readAggregate(c.ps, job.plan.tensors).map((p) => p.tensor)).toEqual([1, 2, 3])
    expect(toB[1].msg).toEqual({ worker: 'a', last: -1 })
    expect(job.corrections).toEqual([3]) // the min when it went out
    // its shard is to do again, its updates are not served again, its rows no longer count
    expect(job.ledger.processed).toBe(0)
    expect(job.returned).toContainEqual({ worker: 'a', shard: lease.shard, epoch: 0 })
    expect(job.log.since('a', -1).updates).toEqual([])
    expect(job.samples).toBe(10)
    expect(job.defence.snapshot()).toMatchObject({ quarantines: 1, undone: { updates: 3, shards: 1 }, recent: [{ worker: 'a', undone: 3 }] })
  })

  it('refuses a view that lacks a correction sent more than s clocks before, or claims one never made', () => {
    const out = new Out()
    const job = tinyJob(out, () => 1000, { staleness: 1, batch: 4, shardSize: 10 })
    for (const w of ['a', 'b', 'c']) job.hello(w, { type: 'hello', engine: 'cpu' })
    for (const w of ['a', 'b', 'c']) job.ready(w)
    for (const w of ['a', 'b', 'c']) job.lease(w)
    expect(job.update('c', workerUpdate(job, 'c', 0, -1, 4).msg)).toEqual({ ok: true, clock: 0 })
    job.quarantine('c', 'a test')
    expect(job.corrections).toEqual([0])
    for (const w of ['a', 'b']) expect(job.update(w, workerUpdate(job, w, 0, -1, 4).msg)).toEqual({ ok: true, clock: 0 })
    // clock 1 may still be computed without it (the min was 0 when it went out: 1 − s = 0 is not past it)
    expect(job.update('a', workerUpdate(job, 'a', 1, 0, 4).msg)).toEqual({ ok: true, clock: 1 })
    expect(job.update('b', workerUpdate(job, 'b', 1, 0, 4, [], { view: { vc: {}, psUpTo: 0, corrections: 2 } }).msg)).toMatchObject({ ok: false, code: 'ERR_BAD_UPDATE', reason: expect.stringMatching(/holds 2 corrections; the job made 1/) })
    const late = workerUpdate(job, 'a', 2, 1, 2)
    expect(job.update('a', late.msg)).toMatchObject({ ok: false, code: 'ERR_BAD_UPDATE', reason: expect.stringMatching(/holds 0 corrections; 1 were sent before clock 1/) })
  })
})

describe('Unverified', () => {
  it('sums server deltas since the last verified update and forgets shards verified since', () => {
    const u = new Unverified()
    const part = (v: number): Part => ({ tensor: 1, path: 'ps', form: 'dense', floats: new Float32Array([v, 2 * v]) })
    u.accepted('w', [part(1)], 4)
    u.shardDone('w', 0, 7, 0)
    u.verified('w', 0)
    u.accepted('w', [part(2), { tensor: 0, path: 'sf', form: 'factors', floats: new Float32Array(4) }], 4)
    u.accepted('w', [part(3)], 3)
    u.shardDone('w', 0, 8, 2)
    const c = u.take('w')
    expect(c).toMatchObject({ after: 0, updates: 2, rows: 7 })
    expect(c.ps.map((p) => [p.tensor, [...p.floats]])).toEqual([[1, [-5, -10]]])
    expect(c.shards).toEqual([{ epoch: 0, shard: 8 }])
    expect(u.size).toBe(0)
  })
})
