// An operator's pause, resume and cancel, a volunteer's pause, and the job page's history, on the job core.
import { beforeEach, describe, expect, it } from 'vitest'
import { controlOutcome, JobHistory } from '../../coordinator/core/history.ts'
import type { JobCore } from '../../coordinator/core/job.ts'
import { MAX_PROGRESS_POINTS } from '../../protocol/limits.ts'
import { FakeOutbox } from '../helpers/fake-outbox.ts'
import { tinyJob, workerUpdate } from '../helpers/tiny-data.ts'

let out: FakeOutbox
let now: number
let job: JobCore

beforeEach(() => {
  out = new FakeOutbox()
  now = 1000
  job = tinyJob(out, () => now, { stallTimeoutMs: 5000, shardSize: 8, staleness: 2, epochs: 3 })
})

function running(...ids: string[]) {
  for (const w of ids) job.hello(w, { type: 'hello', engine: 'cpu' })
  for (const w of ids) job.ready(w)
  for (const w of ids) {
    const l = job.lease(w)
    if (!l.ok || !l.lease) throw new Error('no lease')
  }
}

function send(w: string, clock: number, prev: number) {
  // a shard that is full is done, and the next one leased, as a worker does
  const held = job.ledger.leasesOf(w)[0]
  if (held && held.rows + 4 > job.info.shards.size) {
    expect(job.shardDone(w, { type: 'shard-done', lease: held.id })).toEqual({ ok: true })
    expect(job.lease(w)).toMatchObject({ ok: true, lease: { epoch: expect.any(Number) } })
  }
  return job.update(w, workerUpdate(job, w, clock, prev, 4).msg)
}

describe('operator controls', () => {
  it('pause holds the job: no new leases, updates on their way still count, nobody stalls; resume goes on', () => {
    running('a', 'b')
    expect(send('a', 0, -1)).toEqual({ ok: true, clock: 0 })
    out.events = []
    expect(job.control('pause')).toBeNull()
    expect(job.summary()).toMatchObject({ state: 'paused', reason: 'paused by the operator' })
    expect(out.of('job').map((e) => [e.to, e.msg])).toEqual([
      ['a', { state: 'paused', reason: 'paused by the operator' }],
      ['b', { state: 'paused', reason: 'paused by the operator' }],
    ])
    // b's update was computed before it heard of the pause
    expect(send('b', 0, -1)).toEqual({ ok: true, clock: 0 })
    expect(job.ssp.min).toBe(1)
    // leases stay with their workers, and none is handed out
    expect(job.ledger.leasesOf('a')).toHaveLength(1)
    job.hello('c', { type: 'hello', engine: 'cpu' })
    job.ready('c')
    expect(job.lease('c')).toEqual({ ok: true, lease: null, done: false })
    // a long pause evicts nobody
    now += 60_000
    job.tick()
    expect(out.evicted).toEqual([])
    expect(job.control('pause')).toBeNull() // a second pause changes nothing
    expect(job.control('resume')).toBeNull()
    expect(job.summary()).toMatchObject({ state: 'running', reason: null })
    // the stall clocks started afresh at the resume
    now += 4000
    job.tick()
    expect(out.evicted).toEqual([])
    expect(send('a', 1, 0)).toEqual({ ok: true, clock: 1 })
  })

  it('resume of a job paused before it started goes back to pending', () => {
    expect(job.control('pause')).toBeNull()
    expect(job.state).toBe('paused')
    expect(job.control('resume')).toBeNull()
    expect(job.state).toBe('pending')
  })

  it('cancel ends the job as failed with its reason, folds the server deltas into the model, and refuses what follows', () => {
    running('a', 'b')
    send('a', 0, -1)
    const before = job.replica.params.slice()
    expect(job.control('cancel')).toBeNull()
    expect(job.summary()).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
    expect(job.finishedAt).toBe(now)
    // a's ps parts were pending at the server (b had not sent clock 0): they are in the model now
    expect(job.replica.params).not.toEqual(before)
    expect(send('b', 0, -1)).toMatchObject({ ok: false, code: 'ERR_JOB_CLOSED' })
    expect(job.lease('a')).toEqual({ ok: true, lease: null, done: true })
    for (const action of ['pause', 'resume', 'cancel'] as const) {
      expect(job.control(action)).toMatchObject({ ok: false, code: 'ERR_JOB_CLOSED', reason: 'the job is failed (cancelled by the operator)' })
    }
    expect(job.state).toBe('failed')
  })
})

describe("a volunteer's pause", () => {
  it('hands its shard back and stops holding the min; its next lease counts it again at the min', () => {
    running('a', 'b')
    expect(job.ledger.leasesOf('b')[0].lr).toBeCloseTo(job.lr / 2, 12)
    const shard = job.ledger.leasesOf('a')[0].shard
    expect(send('a', 0, -1)).toEqual({ ok: true, clock: 0 })
    expect(send('b', 0, -1)).toEqual({ ok: true, clock: 0 })
    expect(send('b', 1, 0)).toEqual({ ok: true, clock: 1 })
    // the min stays at a's clock while it counts
    expect(job.ssp.min).toBe(1)
    expect(job.pause('a', { type: 'pause', paused: true })).toEqual({ ok: true, returned: 1 })
    expect(job.members.get('a')!.paused).toBe(true)
    expect(job.ledger.leasesOf('a')).toEqual([])
    expect(job.returned.at(-1)).toEqual({ worker: 'a', shard, epoch: 0 })
    // the min is b's alone now
    expect(job.ssp.min).toBe(2)
    // paused and holding nothing, it is not stalled however long it rests (b goes on meanwhile)
    for (let c = 2; c < 6; c++) {
      now += 4000
      expect(send('b', c, c - 1)).toEqual({ ok: true, clock: c })
      job.tick()
    }
    expect(out.evicted).toEqual([])
    expect(job.ssp.min).toBe(6)
    // the job's step is shared among the workers that compute: b's leases since the pause carry all of it
    expect(job.ledger.leasesOf('b')[0].lr).toBeCloseTo(job.lr, 12)
    expect(job.pause('a', { type: 'pause', paused: false })).toEqual({ ok: true, returned: 0 })
    const l = job.lease('a')
    if (!l.ok || !l.lease) throw new Error('no lease')
    // it goes on at the min, and holds it again
    expect(l.lease.clock).toBe(6)
    expect(send('b', 6, 5)).toEqual({ ok: true, clock: 6 })
    expect(job.ssp.min).toBe(6)
    expect(send('a', 6, 0)).toEqual({ ok: true, clock: 6 })
    expect(job.ssp.min).toBe(7)
    expect(job.members.get('a')!.paused).toBe(false)
    // its shard went back to the pool's front: b, the next to lease, took it up
    expect(job.ledger.processors(0)[shard] === 'b' || job.ledger.leasesOf('b').some((x) => x.shard === shard)).toBe(true)
  })

  it('a departed worker is kept for the job page with what it gave and why it went', () => {
    running('a', 'b')
    send('a', 0, -1)
    now += 500
    job.leave('a')
    expect(job.history.departedView()).toEqual([{ id: 'a', engine: 'cpu', adapter: '', joinedAt: 1000, leftAt: 1500, why: 'left', samples: 4, clock: 1 }])
    now += 60_000
    job.tick()
    expect(job.history.departedView().map((d) => [d.id, d.why])).toEqual([
      ['a', 'left'],
      ['b', 'ERR_STALLED'],
    ])
  })
})

describe('JobHistory', () => {
  it('samples once a tick and, when full, keeps every other point and samples half as often', () => {
    const h = new JobHistory()
    for (let t = 0; t < MAX_PROGRESS_POINTS; t++) h.sample({ t, minClock: t, maxClock: t, samples: t, workers: 1 })
    const thinned = h.progress()
    expect(thinned).toHaveLength(MAX_PROGRESS_POINTS / 2)
    expect(thinned.slice(0, 3).map((p) => p.t)).toEqual([0, 2, 4])
    h.sample({ t: MAX_PROGRESS_POINTS, minClock: 0, maxClock: 0, samples: 0, workers: 1 })
    h.sample({ t: MAX_PROGRESS_POINTS + 1, minClock: 0, maxClock: 0, samples: 0, workers: 1 })
    expect(h.progress().slice(-1)[0].t).toBe(MAX_PROGRESS_POINTS + 1)
    expect(h.progress()).toHaveLength(MAX_PROGRESS_POINTS / 2 + 1)
  })

  it('the control state machine: what each action does from each state', () => {
    const from = (state: string, started = true) => ({ state, started, reason: null })
    expect(controlOutcome('pause', from('running'))).toEqual({ state: 'paused', reason: 'paused by the operator' })
    expect(controlOutcome('pause', from('pending', false))).toEqual({ state: 'paused', reason: 'paused by the operator' })
    expect(controlOutcome('resume', from('paused'))).toEqual({ state: 'running', reason: null })
    expect(controlOutcome('resume', from('paused', false))).toEqual({ state: 'pending', reason: null })
    expect(controlOutcome('resume', from('running'))).toEqual({ state: 'running', reason: null })
    expect(controlOutcome('cancel', from('paused'))).toEqual({ state: 'failed', reason: 'cancelled by the operator' })
    expect(controlOutcome('pause', from('done'))).toEqual({ refused: 'the job is done' })
  })
})
