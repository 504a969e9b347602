import { beforeEach, describe, expect, it } from 'vitest'
import { JobCore, type Outbox } from '../../coordinator/core/job.ts'
import { decodeParams } from '../../model/codec.ts'
import { applyDense, applyFactors, type MlrParams } from '../../model/mlr.ts'
import { asBytes } from '../../protocol/bytes.ts'
import type { Rejection } from '../../protocol/errors.ts'
import type { Msg, RelayedUpdate } from '../../protocol/messages.ts'
import { mulberry32, randomFloats } from '../helpers/random.ts'
import { tinyDataset, tinyInfo } from '../helpers/tiny-data.ts'

class FakeOutbox implements Outbox {
  events: Array<{ to: string; event: string; msg: unknown }> = []
  evicted: Array<{ worker: string; why: Rejection }> = []
  send(to: string, event: string, msg: unknown) {
    this.events.push({ to, event, msg })
  }
  evict(worker: string, why: Rejection) {
    this.evicted.push({ worker, why })
  }
  of(event: string) {
    return this.events.filter((e) => e.event === event)
  }
}

const data = tinyDataset()
const { K, J } = { K: data.classes, J: data.features }
const rand = mulberry32(3)

function factors(rows: number): Uint8Array {
  return new Uint8Array(randomFloats(rand, rows * (K + J), 0.1).buffer)
}
function upd(clock: number, prev: number, rows = 4, extra: Partial<Msg<'update'>> = {}): Msg<'update'> {
  return { type: 'update', clock, prev, form: 'factors', rows, loss: 1, correct: 0, p2pTo: [], payload: factors(rows), ...extra }
}
function hello(job: JobCore, id: string) {
  return job.hello(id, { type: 'hello', engine: 'cpu' })
}

let out: FakeOutbox
let now: number
let job: JobCore

beforeEach(() => {
  out = new FakeOutbox()
  now = 1000
  job = new JobCore(tinyInfo(data), data, out, () => now)
})

function twoRunning() {
  hello(job, 'a')
  hello(job, 'b')
  job.ready('a')
  expect(job.state).toBe('pending')
  job.ready('b')
  expect(job.state).toBe('running')
  const la = job.lease('a')
  const lb = job.lease('b')
  if (!la.ok || !lb.ok || !la.lease || !lb.lease) throw new Error('no lease')
  return { la: la.lease, lb: lb.lease }
}

function replay(model: MlrParams, updates: RelayedUpdate[]) {
  for (const u of [...updates].sort((x, y) => x.clock - y.clock || (x.from < y.from ? -1 : 1))) {
    const f = new Float32Array(asBytes(u.payload).slice().buffer)
    if (u.form === 'factors') applyFactors({ K, J }, model, f.subarray(0, u.rows * K), f.subarray(u.rows * K), 0, u.rows)
    else applyDense(model, f.subarray(0, K * J), f.subarray(K * J))
  }
}

describe('JobCore', () => {
  it('waits for minWorkers, then relays each update to the peers it did not reach directly', () => {
    twoRunning()
    hello(job, 'c') // still linking: gets no relay, the snapshot will carry it
    out.events = []
    expect(job.update('a', upd(0, -1, 4, { p2pTo: ['b'] }))).toEqual({ ok: true })
    expect(out.of('update')).toHaveLength(0)
    expect(job.update('b', upd(0, -1))).toEqual({ ok: true })
    expect(out.of('update').map((e) => e.to)).toEqual(['a'])
    expect(job.bytes.p2p).toBe(4 * (K + J) * 4)
    expect(job.bytes.relay).toBe(4 * (K + J) * 4)
    expect(out.of('clock').map((e) => e.to).sort()).toEqual(['a', 'b'])
    expect(job.replica.frontier).toBe(0)
  })

  it('gives a joiner the model, the vector clock and the queued updates: together they equal the replica', () => {
    twoRunning()
    job.update('a', upd(0, -1))
    job.update('b', upd(0, -1))
    job.update('a', upd(1, 0)) // queued: min is 1, clock 1 not applied yet
    hello(job, 'c')
    const snap = job.ready('c')
    if (!snap.ok) throw new Error(snap.reason)
    expect(snap.vc).toEqual({ a: 1, b: 0 })
    expect(snap.pending.map((u) => [u.from, u.clock])).toEqual([['a', 1]])
    expect(snap.clock).toBe(1)
    const model = decodeParams({ K, J }, asBytes(snap.model))
    replay(model, snap.pending)
    job.replica.flush()
    expect(Array.from(model.W)).toEqual(Array.from(job.replica.params.W))
  })

  it('rejects bad updates with a code and changes nothing', () => {
    twoRunning()
    job.update('a', upd(0, -1))
    const before = { W: job.replica.params.W.slice(), clocks: job.ssp.clocks(), bytes: { ...job.bytes }, samples: job.samples }
    out.events = []
    const nan = new Float32Array(4 * (K + J))
    nan[3] = NaN
    const cases: Array<[Msg<'update'>, string]> = [
      [upd(1, 0, 4, { payload: new Uint8Array(10) }), 'ERR_BAD_SHAPE'],
      [upd(1, 0, 4, { payload: new Uint8Array(nan.buffer) }), 'ERR_NOT_FINITE'],
      [upd(1, 0, 4, { form: 'dense' }), 'ERR_BAD_SHAPE'],
      [upd(1, 0, 5), 'ERR_BAD_SHAPE'], // rows above the job's batch
      [upd(3, 0), 'ERR_CLOCK'], // not the next clock
      [upd(1, -1), 'ERR_CLOCK'], // wrong prev
      [upd(1, 0, 4, { p2pTo: ['intruder'] }), 'ERR_NOT_IN_JOB'],
      [upd(1, 0, 4, { p2pTo: ['a'] }), 'ERR_NOT_IN_JOB'],
    ]
    for (const [m, code] of cases) expect(job.update('a', m)).toMatchObject({ ok: false, code })
    // s=1: a may finish clock 1 while b is at 0, but not clock 2
    expect(job.update('a', upd(1, 0))).toEqual({ ok: true })
    expect(job.update('a', upd(2, 1, 2))).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
    expect(job.ssp.clocks()).toEqual({ ...before.clocks, a: 2 })
    expect(Array.from(job.replica.params.W)).toEqual(Array.from(before.W))
    expect(job.samples).toBe(before.samples + 4)
    expect(out.of('update').length).toBe(1) // only the accepted clock-1 update was relayed (to b)
  })

  it('refuses work from a worker without a lease, and a shard-done that does not cover the shard', () => {
    const { la } = twoRunning()
    hello(job, 'c')
    job.ready('c')
    expect(job.update('c', upd(0, -1))).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    job.update('a', upd(0, -1))
    expect(job.shardDone('a', { type: 'shard-done', lease: la.id })).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(job.shardDone('b', { type: 'shard-done', lease: la.id })).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(job.ledger.processed).toBe(0)
    expect(job.signal('a', { type: 'signal', to: 'elsewhere', data: { type: 'offer', sdp: 'x' } })).toMatchObject({ ok: false, code: 'ERR_NOT_IN_JOB' })
  })

  it('trains to done: every shard once, replica = all updates', () => {
    const { la, lb } = twoRunning()
    const all: RelayedUpdate[] = []
    const clock: Record<string, number> = { a: 0, b: 0 }
    const leases: Record<string, typeof la | null> = { a: la, b: lb }
    const rowsDone: Record<string, number> = { a: 0, b: 0 }
    let guard = 0
    while (job.state === 'running' && guard++ < 500) {
      for (const w of ['a', 'b']) {
        const l = leases[w]
        if (!l) {
          const r = job.lease(w)
          if (r.ok && r.lease) {
            leases[w] = r.lease
            clock[w] = r.lease.clock
            rowsDone[w] = 0
          }
          continue
        }
        if (rowsDone[w] === l.n) {
          expect(job.shardDone(w, { type: 'shard-done', lease: l.id })).toEqual({ ok: true })
          leases[w] = null
          continue
        }
        const rows = Math.min(4, l.n - rowsDone[w])
        const m = upd(clock[w], job.ssp.lastOf(w), rows)
        const r = job.update(w, m)
        if (!r.ok) continue // held back by the bound: the other worker moves first
        all.push({ from: w, clock: m.clock, prev: m.prev, form: m.form, rows, payload: m.payload as Uint8Array })
        clock[w]++
        rowsDone[w] += rows
      }
    }
    expect(job.state).toBe('done')
    expect(job.ledger.report()[0]).toMatchObject({ processed: 4, missing: [] })
    expect(job.samples).toBe(data.train.n)
    const model = { W: new Float32Array(K * J), b: new Float32Array(K) }
    replay(model, all)
    for (let i = 0; i < model.W.length; i++) expect(job.replica.params.W[i]).toBeCloseTo(model.W[i], 5)
    expect(job.curve.length).toBeGreaterThanOrEqual(2)
    expect(out.of('job').some((e) => (e.msg as { state: string }).state === 'done')).toBe(true)
  })

  it('a departure returns the shard, tells the peers its last clock, releases the bound', () => {
    const { la } = twoRunning()
    job.update('a', upd(0, -1))
    job.update('a', upd(1, 0))
    out.events = []
    job.leave('a')
    expect(out.of('peer-left')).toEqual([{ to: 'b', event: 'peer-left', msg: { worker: 'a', last: 1 } }])
    // an update b queued for a just before a left is still accepted
    expect(job.update('b', upd(0, -1, 4, { p2pTo: ['a'] }))).toEqual({ ok: true })
    expect(job.returned).toEqual([{ worker: 'a', shard: la.shard, epoch: 0 }])
    hello(job, 'c')
    job.ready('c')
    const again = job.lease('c')
    expect(again.ok && again.lease?.shard).toBe(la.shard)
    expect(job.lease('b')).toMatchObject({ lease: { shard: 1 } }) // b asking again keeps its own shard
  })

  it('evicts a worker that stalls while free to run, not one waiting on the bound', () => {
    twoRunning()
    job.update('a', upd(0, -1))
    job.update('a', upd(1, 0)) // a is now blocked by b (s=1)
    now += 31_000
    job.tick()
    expect(out.evicted.map((e) => e.worker)).toEqual(['b'])
    expect(out.evicted[0].why.code).toBe('ERR_STALLED')
    expect(job.members.has('b')).toBe(false)
    expect(job.ledger.outstanding().map((l) => l.worker)).toEqual(['a'])
  })
})
