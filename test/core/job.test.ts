// The job core without sockets: relay of factors, the parameter server's aggregates, snapshots, bad input, leases.
import { beforeEach, describe, expect, it } from 'vitest'
import type { JobCore } from '../../coordinator/core/job.ts'
import { arenaFromBytes, maxAbsDiff } from '../../model/params.ts'
import { applyParts, type Part } from '../../model/update.ts'
import type { Rejection } from '../../protocol/errors.ts'
import { unpackBinaries } from '../../protocol/bytes.ts'
import { encodeFrame, readAggregate, readFrame } from '../../protocol/frames.ts'
import type { Aggregate, RelayedUpdate } from '../../protocol/messages.ts'
import { FakeOutbox } from '../helpers/fake-outbox.ts'
import { mulberry32 } from '../helpers/random.ts'
import { workerUpdate, tinyDataset, tinyJob } from '../helpers/tiny-data.ts'

const rand = mulberry32(3)
let out: FakeOutbox
let now: number
let job: JobCore

beforeEach(() => {
  out = new FakeOutbox()
  now = 1000
  job = tinyJob(out, () => now)
})

function hello(id: string) {
  return job.hello(id, { type: 'hello', engine: 'cpu' })
}

function twoRunning() {
  hello('a')
  hello('b')
  job.ready('a')
  expect(job.state).toBe('pending')
  job.ready('b')
  expect(job.state).toBe('running')
  const la = job.lease('a')
  const lb = job.lease('b')
  if (!la.ok || !lb.ok || !la.lease || !lb.lease) throw new Error('no lease')
  return { la: la.lease, lb: lb.lease }
}

/** Sends a random update; returns its parts so the test can replay it. */
function send(w: string, clock: number, prev: number, rows = 4, p2pTo: string[] = []) {
  const u = workerUpdate(job, w, clock, prev, rows, p2pTo)
  return { reply: job.update(w, u.msg), parts: u.parts, rows }
}

/** What every clock view carries before any worker reported its speed. */
const PACE = { clockMs: null, holdMs: 0 }

describe('JobCore', () => {
  it('chooses sf for the wide kernel and ps for the rest, and tells joiners', () => {
    const h = hello('a')
    if (!h.ok) throw new Error(h.reason)
    expect(job.plan.tensors.map((t) => `${t.name}:${h.paths.paths[t.index]}`)).toEqual(['dense_1/kernel:sf', 'dense_1/bias:ps', 'dense_2/kernel:ps', 'dense_2/bias:ps'])
    expect(h.paths).toMatchObject({ version: 1, workers: 2, batch: 4 })
  })

  it('relays an update’s sf parts to the peers it did not reach directly; ps parts stay with the server', () => {
    twoRunning()
    hello('c') // still linking: gets no relay, the snapshot will carry it
    out.events = []
    const a = send('a', 0, -1, 4, ['b'])
    expect(a.reply).toEqual({ ok: true, clock: 0 })
    expect(out.of('update')).toHaveLength(0)
    send('b', 0, -1)
    const relayed = out.of('update')
    expect(relayed.map((e) => e.to)).toEqual(['a'])
    const frame = readFrame((relayed[0].msg as RelayedUpdate).frame, job.plan.tensors, { expect: 'sf', maxRows: 4 })
    expect(frame.parts.map((p) => p.tensor)).toEqual([0])
    const sfBytes = 4 * (32 + 40) * 4
    const kernel = job.traffic.tensors(job.comm.paths)[0]
    // a: to the coordinator and to b directly; b: to the coordinator, relayed to a
    expect(kernel).toMatchObject({ name: 'dense_1/kernel', path: 'sf', sent: 3 * sfBytes, received: 2 * sfBytes })
  })

  it('sends peers nothing for an update without factors, and clock views name only the chains that moved', () => {
    job = tinyJob(out, () => now, { paths: 'ps' })
    for (const w of ['a', 'b', 'c']) hello(w)
    for (const w of ['a', 'b', 'c']) job.ready(w)
    for (const w of ['a', 'b', 'c']) job.lease(w)
    out.events = []
    for (let c = 0; c < 2; c++) for (const w of ['a', 'b', 'c']) expect(send(w, c, -1).reply).toEqual({ ok: true, clock: c })
    // nothing per update: one message per worker and clock, the aggregate carrying the clock view (naming no chain)
    expect(out.of('update')).toHaveLength(0)
    expect(out.of('confirm')).toHaveLength(0)
    expect(out.of('clock')).toHaveLength(0)
    expect(out.of('aggregate').map((e) => (e.msg as Aggregate).view)).toEqual([0, 0, 0, 1, 1, 1].map((c) => ({ min: c + 1, last: {}, pace: PACE })))
    expect(job.ssp.view()).toEqual({ min: 2, last: {} })
    // a chain is what an update with factors extends (`prev`): a ps-only one leaves it
    expect(job.ssp.chainOf('a')).toBe(-1)
  })

  it('a clock view names the chains that moved since the one before, the ready view all of them', () => {
    twoRunning()
    out.events = []
    // the min moves with the aggregate of the clock, which carries the view
    const views = () => out.of('aggregate').map((e) => (e.msg as Aggregate).view)
    send('a', 0, -1)
    send('b', 0, -1)
    expect(views()).toEqual([{ min: 1, last: { a: 0, b: 0 }, pace: PACE }, { min: 1, last: { a: 0, b: 0 }, pace: PACE }])
    send('a', 1, 0)
    send('b', 1, 0)
    expect(views().slice(2)[0]).toEqual({ min: 2, last: { a: 1, b: 1 }, pace: PACE })
    hello('c')
    const r = job.ready('c')
    if (!r.ok) throw new Error(r.reason)
    expect(r.view).toEqual({ min: 2, last: { a: 1, b: 1 }, pace: PACE })
  })

  it('sums a clock’s ps deltas from all workers and sends each worker one aggregate when the min clock moves', () => {
    twoRunning()
    const initial = job.replica.params.slice()
    const a = send('a', 0, -1)
    expect(out.of('aggregate')).toHaveLength(0)
    const b = send('b', 0, -1)
    const aggs = out.of('aggregate')
    expect(aggs.map((e) => e.to).sort()).toEqual(['a', 'b'])
    const agg = aggs[0].msg as Aggregate
    expect([agg.from, agg.to]).toEqual([0, 1])
    const parts = readAggregate(agg.parts, job.plan.tensors)
    expect(parts.map((p) => p.tensor)).toEqual([1, 2, 3])
    for (const p of parts) {
      const pa = a.parts[p.tensor].floats
      const pb = b.parts[p.tensor].floats
      for (let i = 0; i < p.floats.length; i++) expect(p.floats[i]).toBeCloseTo(pa[i] + pb[i], 6)
    }
    // the aggregate carries the min move it completes; no separate clock event
    expect(out.events.filter((e) => e.to === 'a' && e.event === 'clock')).toEqual([])
    expect(agg.view).toEqual({ min: 1, last: { a: 0, b: 0 }, pace: PACE })
    // replica = initial + both updates
    const want = initial.slice()
    applyParts(want, job.plan.tensors, a.parts, 4)
    applyParts(want, job.plan.tensors, b.parts, 4)
    expect(maxAbsDiff(job.replica.params, want)).toBeLessThan(1e-6)
  })

  it('what a worker receives per clock from the server does not grow with the number of workers', () => {
    for (const n of [2, 6]) {
      out = new FakeOutbox()
      job = tinyJob(out, () => now, { minWorkers: n, shardSize: 4 }, tinyDataset(48))
      const ids = Array.from({ length: n }, (_, i) => `w${i}`)
      for (const w of ids) hello(w)
      for (const w of ids) job.ready(w)
      for (const w of ids) job.lease(w)
      for (const w of ids) send(w, 0, -1)
      // one aggregate per worker, each one tensor-sized part per ps tensor, whatever n is
      const aggs = out.of('aggregate')
      expect(aggs.map((e) => e.to).sort()).toEqual(ids.sort())
      const ps = job.plan.tensors.filter((t) => job.comm.paths[t.index] === 'ps')
      const want = 4 + 4 * ps.length + 4 * ps.reduce((s, t) => s + t.size, 0)
      for (const e of aggs) expect((e.msg as Aggregate).parts.byteLength).toBe(want)
    }
  })

  it('gives a joiner the model, the vector clock and the queued sf parts; the aggregates that follow complete it', () => {
    twoRunning()
    send('a', 0, -1)
    send('b', 0, -1)
    const queued = send('a', 1, 0) // min is 1: clock 1 is queued, its ps parts wait in the server
    hello('c')
    const snap = job.ready('c')
    if (!snap.ok) throw new Error(snap.reason)
    expect(snap.vc).toEqual({ a: 1, b: 0 })
    expect(snap.psFrom).toBe(1)
    expect(snap.clock).toBe(1)
    const model = arenaFromBytes(job.plan, snap.model as Uint8Array)
    expect(snap.pending.from).toHaveLength(1)
    const pending = readFrame(unpackBinaries(snap.pending.frames)[0], job.plan.tensors, { expect: 'sf', maxRows: 4 })
    expect([pending.clock, pending.parts.length]).toEqual([1, 1])
    applyParts(model, job.plan.tensors, pending.parts, 4)
    out.events = []
    const b1 = send('b', 1, 0)
    const agg = out.of('aggregate').find((e) => e.to === 'c')!.msg as Aggregate
    expect(agg.from).toBe(1)
    applyParts(model, job.plan.tensors, readAggregate(agg.parts, job.plan.tensors), 0)
    // c got b's clock-1 sf parts as a relay
    const relay = out.of('update').find((e) => e.to === 'c')!.msg as RelayedUpdate
    applyParts(model, job.plan.tensors, readFrame(relay.frame, job.plan.tensors, { expect: 'sf', maxRows: 4 }).parts, 4)
    expect(queued.reply.ok && b1.reply.ok).toBe(true)
    expect(maxAbsDiff(model, job.replica.params)).toBeLessThan(1e-6)
  })

  it('rejects bad frames with a code and changes nothing', () => {
    twoRunning()
    send('a', 0, -1)
    const before = { params: job.replica.params.slice(), clocks: job.ssp.clocks(), traffic: job.traffic.totals(), samples: job.samples, held: job.ps.heldFloats }
    out.events = []
    const good = () => workerUpdate(job, 'a', 1, 0, 4)
    const withParts = (f: (p: Part[]) => Part[], rows = 4, clock = 1, prev = 0) => {
      const u = good()
      return { ...u.msg, frame: encodeFrame({ clock, prev, rows, parts: f(u.parts) }) }
    }
    const nan = () => withParts((p) => {
      p[2].floats[5] = NaN
      return p
    })
    const cases: Array<[unknown, string, RegExp]> = [
      [withParts((p) => p.slice(0, 3)), 'ERR_BAD_SHAPE', /3 parts, the model has 4 tensors/],
      [withParts((p) => [...p.slice(0, 3), { ...p[3], tensor: 9 }]), 'ERR_BAD_SHAPE', /unknown tensor 9/],
      [withParts((p) => [p[0], p[2], p[1], p[3]]), 'ERR_BAD_SHAPE', /out of order/],
      [withParts((p) => [p[0], p[1], p[1], p[3]]), 'ERR_BAD_SHAPE', /out of order or repeated/],
      [withParts((p) => [p[0], { ...p[1], path: 'sf', form: 'factors' }, p[2], p[3]]), 'ERR_BAD_PATH', /dense_1\/bias: path sf with form factors/],
      [withParts((p) => [{ ...p[0], path: 'ps' }, ...p.slice(1)]), 'ERR_BAD_PATH', /dense_1\/kernel: path ps with form factors/],
      [withParts((p) => [p[0], { ...p[1], floats: p[1].floats.subarray(1) }, p[2], p[3]]), 'ERR_BAD_SHAPE', /the payload ends first|bytes after the last part/],
      [withParts((p) => p, 17), 'ERR_BAD_SHAPE', /rows 17 exceeds the most an update of this job may have, 16/],
      [nan(), 'ERR_NOT_FINITE', /dense_2\/kernel/],
      [{ ...good().msg, frame: new Uint8Array(8) }, 'ERR_BAD_SHAPE', /shorter than its header/],
      [{ ...good().msg, frame: new Uint8Array(33 * 1024 * 1024) }, 'ERR_TOO_LARGE', /over/],
      [withParts((p) => p, 4, 3, 0), 'ERR_CLOCK', /clock 3, expected 1/],
      [withParts((p) => p, 4, 1, -1), 'ERR_CLOCK', /prev -1, expected 0/],
      [{ ...good().msg, p2pTo: ['intruder'] }, 'ERR_NOT_IN_JOB', /intruder/],
      [{ ...good().msg, p2pTo: ['a'] }, 'ERR_NOT_IN_JOB', /names a/],
    ]
    const unknownPath = good().msg
    new DataView(unknownPath.frame.buffer).setUint8(16 + 4 + 4 + 2, 7) // part 1's path byte
    cases.push([unknownPath, 'ERR_BAD_PATH', /unknown path 7/])
    for (const [m, code, reason] of cases) {
      const r = job.update('a', m as never)
      expect(r, String(reason)).toMatchObject({ ok: false, code })
      expect((r as Rejection).reason).toMatch(reason)
    }
    expect(job.ssp.clocks()).toEqual(before.clocks)
    expect(job.replica.params).toEqual(before.params)
    expect(job.traffic.totals()).toEqual(before.traffic)
    expect(job.ps.heldFloats).toBe(before.held)
    expect(job.samples).toBe(before.samples)
    expect(out.events).toEqual([])
    // s=1: a may finish clock 1 while b is at 0, but not clock 2
    expect(send('a', 1, 0).reply).toEqual({ ok: true, clock: 1 })
    expect(send('a', 2, 1, 2).reply).toMatchObject({ ok: false, code: 'ERR_CLOCK' })
  })

  it('re-sends a sender’s logged sf frames and counts them for their tensor', () => {
    twoRunning()
    send('a', 0, -1)
    send('a', 1, 0)
    const before = job.traffic.tensors(job.comm.paths)
    out.events = []
    expect(job.resend('b', { type: 'resend', from: 'a', after: -1 })).toEqual({ ok: true, count: 2 })
    expect(out.of('update').map((e) => e.to)).toEqual(['b', 'b'])
    const after = job.traffic.tensors(job.comm.paths)
    expect(after[0].received - before[0].received).toBe(2 * 4 * (32 + 40) * 4)
    expect(after.slice(1).map((t) => t.received)).toEqual(before.slice(1).map((t) => t.received))
  })

  it('refuses work from a worker without a lease, and a shard-done that does not cover the shard', () => {
    const { la } = twoRunning()
    hello('c')
    job.ready('c')
    expect(send('c', 0, -1).reply).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    send('a', 0, -1)
    expect(job.shardDone('a', { type: 'shard-done', lease: la.id })).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(job.shardDone('b', { type: 'shard-done', lease: la.id })).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    expect(job.ledger.processed).toBe(0)
    expect(job.signal('a', { type: 'signal', to: 'elsewhere', data: { type: 'offer', sdp: 'x' } })).toMatchObject({ ok: false, code: 'ERR_NOT_IN_JOB' })
  })

  it('trains to done: every shard once, replica = initial model + every update, a final evaluation', async () => {
    const { la, lb } = twoRunning()
    const initial = job.replica.params.slice()
    const all: Array<{ parts: Part[]; rows: number }> = []
    const clock: Record<string, number> = { a: la.clock, b: lb.clock }
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
        const u = send(w, clock[w], job.ssp.chainOf(w), rows)
        if (!u.reply.ok) continue // held back by the bound: the other worker moves first
        all.push(u)
        clock[w]++
        rowsDone[w] += rows
      }
    }
    expect(job.state).toBe('done')
    expect(job.ledger.report()[0]).toMatchObject({ processed: 4, missing: [] })
    expect(job.samples).toBe(40)
    for (const u of all) applyParts(initial, job.plan.tensors, u.parts, u.rows)
    expect(maxAbsDiff(job.replica.params, initial)).toBeLessThan(1e-5)
    expect(job.ps.heldFloats).toBe(0)
    await job.settled()
    expect(job.curve.points.length).toBeGreaterThanOrEqual(2)
    expect(job.curve.last!.clock).toBe(job.replica.frontier + 1)
    expect(out.of('job').some((e) => (e.msg as { state: string }).state === 'done')).toBe(true)
  })

  it('hands each lease the learning rate of the schedule at that point of the job, a 1/P share per worker', () => {
    job = tinyJob(out, () => now, { lr: 0.1, lrSchedule: 'invsqrt', lrDecayEpochs: 0.25, minWorkers: 1, shardSize: 10 })
    hello('a')
    job.ready('a')
    hello('b')
    job.ready('b')
    const rates: number[] = []
    for (let s = 0; s < 4; s++) {
      const r = job.lease('a')
      if (!r.ok || !r.lease) throw new Error('no lease')
      rates.push(r.lease.lr)
      for (let row0 = 0, c = r.lease.clock; row0 < 10; row0 += 4, c++) send('a', c, c - 1, Math.min(4, 10 - row0))
      job.shardDone('a', { type: 'shard-done', lease: r.lease.id })
    }
    // epochs done at the grants: 0, 1/4, 2/4, 3/4 → 0.1/√(1 + e/0.25), shared by the 2 workers
    expect(rates.map((r) => +r.toFixed(6))).toEqual([0.1, 0.1 / Math.sqrt(2), 0.1 / Math.sqrt(3), 0.05].map((r) => +(r / 2).toFixed(6)))
    expect(job.summary().lr).toBeCloseTo(0.05, 9)
  })

  it('re-decides the paths when the number of workers changes, tells every member, and records changes once training runs', () => {
    job = tinyJob(out, () => now, { minWorkers: 1 }, tinyDataset(200))
    const ids = Array.from({ length: 12 }, (_, i) => `w${i}`)
    for (const w of ids) {
      hello(w)
      job.ready(w)
    }
    // 12 workers: B(K+J)(P+Q) = 4·72·23 > 2·32·40: the kernel went ps
    expect(job.comm.paths[0]).toBe('ps')
    expect(job.comm.paths).toEqual(['ps', 'ps', 'ps', 'ps'])
    const v = job.comm.view().version
    expect(v).toBeGreaterThan(1)
    // before any update the decision is refined in place: tabs arriving one by one make no history
    expect(job.comm.history).toHaveLength(1)
    expect(job.comm.history[0]).toMatchObject({ version: v })
    // every member at the time hears of the last change; later ones get it with their hello
    expect(out.of('paths').filter((e) => (e.msg as { version: number }).version === v).length).toBeGreaterThan(0)
    const late = hello('late')
    expect(late.ok && late.paths.version).toBe(v)
    job.leave('late')
    // once updates flow, a change is a new entry
    for (const w of ids) job.lease(w)
    expect(send('w0', 0, -1).reply).toEqual({ ok: true, clock: 0 })
    for (const w of ids.slice(2)) job.leave(w)
    expect(job.comm.paths[0]).toBe('sf')
    expect(job.comm.view()).toMatchObject({ version: v + 1, workers: 2 })
    expect(job.comm.history.map((d) => d.paths[0])).toEqual(['ps', 'sf'])
    expect(job.comm.history[1].workers).toBeLessThan(12)
    expect(out.of('paths').at(-1)!.msg).toMatchObject({ version: v + 1 })
  })

  it('an operator may force the paths: every dense kernel as factors, or everything through the server', () => {
    for (const [policy, want] of [['sf', ['sf', 'ps', 'sf', 'ps']], ['ps', ['ps', 'ps', 'ps', 'ps']]] as const) {
      job = tinyJob(out, () => now, { paths: policy, minWorkers: 1 })
      for (const w of ['a', 'b', 'c']) {
        hello(w)
        job.ready(w)
      }
      expect(job.comm.paths).toEqual(want)
      expect(job.comm.history).toHaveLength(1)
    }
  })

  it('a departure returns the shard, tells the peers its last clock, releases the bound', () => {
    const { la } = twoRunning()
    send('a', 0, -1)
    send('a', 1, 0)
    out.events = []
    job.leave('a')
    expect(out.of('peer-left')).toEqual([{ to: 'b', event: 'peer-left', msg: { worker: 'a', last: 1 } }])
    // an update b queued for a just before a left is still accepted
    expect(send('b', 0, -1, 4, ['a']).reply).toEqual({ ok: true, clock: 0 })
    expect(job.returned).toEqual([{ worker: 'a', shard: la.shard, epoch: 0 }])
    hello('c')
    job.ready('c')
    const again = job.lease('c')
    expect(again.ok && again.lease?.shard).toBe(la.shard)
    expect(job.lease('b')).toMatchObject({ lease: { shard: 1 } }) // b asking again keeps its own shard
  })

  it('grants the next lease ahead while the pool holds more shards than workers; updates count toward the first', () => {
    job = tinyJob(out, () => now, { epochs: 2 }) // 8 shards
    const { la } = twoRunning()
    expect(job.lease('a', { type: 'lease', ahead: 'L999' })).toMatchObject({ ok: false, code: 'ERR_LEASE' })
    const ahead = job.lease('a', { type: 'lease', ahead: la.id })
    if (!ahead.ok || !ahead.lease) throw new Error('no lease ahead')
    expect(ahead.lease.shard).toBe(2)
    // asked again (a retry): the same one, never a third
    expect(job.lease('a', { type: 'lease', ahead: la.id })).toMatchObject({ lease: { id: ahead.lease.id } })
    expect(job.ledger.leasesOf('a')).toHaveLength(2)
    // the updates go to shard 0 until its shard-done, then to shard 2, which a plain request now returns
    for (const [c, rows] of [[0, 4], [1, 4], [2, 2]]) {
      expect(send('a', c, c - 1, rows).reply).toEqual({ ok: true, clock: c })
      if (c < 2) expect(send('b', c, c - 1).reply).toEqual({ ok: true, clock: c })
    }
    expect(job.ledger.leasesOf('a').map((l) => l.rows)).toEqual([10, 0])
    expect(job.shardDone('a', { type: 'shard-done', lease: la.id })).toEqual({ ok: true })
    expect(job.lease('a')).toMatchObject({ lease: { id: ahead.lease.id, shard: 2 } })
    expect(send('a', 3, 2).reply).toEqual({ ok: true, clock: 3 })
    expect(job.ledger.leasesOf('a')[0]).toMatchObject({ shard: 2, rows: 4 })
    // a departure returns both of a worker's shards
    job.lease('a', { type: 'lease', ahead: ahead.lease.id })
    job.leave('a')
    expect(job.returned.map((r) => r.shard).sort()).toEqual([2, 3])
  })

  it('grants no lease ahead once the pool holds no more shards than workers: each gets one before anyone two', () => {
    const { la } = twoRunning() // 4 shards: 2 leased, 2 left for 2 workers
    expect(job.lease('a', { type: 'lease', ahead: la.id })).toEqual({ ok: true, lease: null, done: false })
    expect(job.ledger.leasesOf('a')).toHaveLength(1)
    expect(send('a', 0, -1).reply).toEqual({ ok: true, clock: 0 })
  })

  it('evicts a worker that stalls while free to run, not one waiting on the bound', () => {
    twoRunning()
    send('a', 0, -1)
    send('a', 1, 0) // a is now blocked by b (s=1)
    now += 31_000
    job.tick()
    expect(out.evicted.map((e) => e.worker)).toEqual(['b'])
    expect(out.evicted[0].why.code).toBe('ERR_STALLED')
    expect(job.members.has('b')).toBe(false)
    expect(job.ledger.outstanding().map((l) => l.worker)).toEqual(['a'])
  })
})


describe('JobCore defences', () => {
  it('quarantines a worker whose update fails a check: refused, evicted, removed, counted; the others go on', () => {
    twoRunning()
    hello('c')
    job.ready('c')
    const honest = workerUpdate(job, 'a', 0, -1, 4)
    const bad = encodeFrame({ clock: 0, prev: -1, rows: 4, parts: honest.parts.map((p) => ({ ...p, floats: p.floats.map((v) => v * -1000) })) })
    const before = job.replica.params.slice()
    const r = job.update('a', { ...honest.msg, frame: bad })
    expect(r).toMatchObject({ ok: false, code: 'ERR_BAD_UPDATE' })
    expect(out.evicted).toEqual([{ worker: 'a', why: expect.objectContaining({ code: 'ERR_QUARANTINED' }) }])
    expect(job.members.has('a')).toBe(false)
    expect(out.of('peer-left').map((e) => e.to).sort()).toEqual(['b', 'c'])
    expect(job.defence.snapshot()).toMatchObject({ quarantines: 1, recent: [{ worker: 'a', reason: expect.stringMatching(/^clock 0: dense_/) }] })
    expect(job.ssp.clocks().a).toBeUndefined()
    expect(job.replica.params).toEqual(before)
    expect(send('b', 0, -1).reply).toEqual({ ok: true, clock: 0 })
  })

  it('confirms an update to its direct receivers with the frame’s SHA-256; a receiver that reports it missing gets it', () => {
    twoRunning()
    hello('c')
    job.ready('c')
    out.events = []
    send('a', 0, -1, 4, ['b', 'c'])
    const confirms = out.of('confirm')
    expect(confirms.map((e) => e.to).sort()).toEqual(['b', 'c'])
    const logged = job.log.get('a', 0)!
    expect(confirms[0].msg).toEqual({ from: 'a', clock: 0, digest: logged.digest })
    expect(logged.digest).toMatch(/^[0-9a-f]{64}$/)
    expect(out.of('update')).toHaveLength(0)
    expect(job.report('b', { type: 'report', from: 'a', clock: 0, kind: 'missing' })).toEqual({ ok: true, relayed: true })
    expect(out.of('update').map((e) => e.to)).toEqual(['b'])
    // a worker that was not named as a direct receiver gets nothing by reporting
    expect(job.report('b', { type: 'report', from: 'a', clock: 7, kind: 'missing' })).toEqual({ ok: true, relayed: false })
  })

  it('a sender whose direct deliveries keep failing is flagged (relay only); one two peers caught two-faced is quarantined', () => {
    twoRunning()
    hello('c')
    job.ready('c')
    job.lease('c')
    expect(send('b', 0, -1).reply.ok && send('c', 0, -1).reply.ok).toBe(true)
    for (let c = 0; c < 2; c++) {
      send('a', c, c - 1, 4, ['b', 'c'])
      for (const w of ['b', 'c']) job.report(w, { type: 'report', from: 'a', clock: c, kind: 'missing' })
    }
    expect(job.defence.snapshot().flagged).toEqual(['a'])
    out.events = []
    send('a', 2, 1, 2, ['b', 'c'])
    expect(out.of('confirm')).toHaveLength(0)
    expect(out.of('update').map((e) => e.to).sort()).toEqual(['b', 'c'])
    hello('d')
    job.ready('d')
    job.lease('d')
    expect(send('d', 1, -1, 4, ['b', 'c']).reply).toEqual({ ok: true, clock: 1 })
    job.report('b', { type: 'report', from: 'd', clock: 1, kind: 'mismatch' })
    expect(job.members.has('d')).toBe(true) // one peer's word is not enough
    job.report('c', { type: 'report', from: 'd', clock: 1, kind: 'mismatch' })
    expect(job.members.has('d')).toBe(false)
    expect(out.evicted.at(-1)).toMatchObject({ worker: 'd', why: { code: 'ERR_QUARANTINED' } })
  })
})

describe('JobCore under churn', () => {
  it('tabs that say hello and never ready neither count toward the cap nor lock newcomers out', () => {
    twoRunning()
    for (let i = 0; i < 300; i++) expect(hello(`idle${i}`).ok).toBe(true)
    expect(out.evicted.filter((e) => e.why.code === 'ERR_READY_TIMEOUT')).toHaveLength(300 - 64)
    expect(hello('volunteer').ok).toBe(true)
    expect(job.ready('volunteer').ok).toBe(true)
    expect(job.readyCount()).toBe(3)
  })

  it('what the coordinator keeps of departed workers is trimmed once the job has moved past them', () => {
    const { la } = twoRunning()
    for (let i = 0; i < 50; i++) {
      const id = `t${i}`
      hello(id)
      job.ready(id)
      job.leave(id)
    }
    expect(send('a', 0, -1).reply.ok && send('b', 0, -1).reply.ok).toBe(true)
    hello('x')
    const snap = job.ready('x')
    if (!snap.ok) throw new Error(snap.reason)
    expect(Object.keys(snap.vc).sort()).toEqual(['a', 'b'])
    expect(job.log.senders).toBe(2)
    expect(la.shard).toBeGreaterThanOrEqual(0)
  })
})
