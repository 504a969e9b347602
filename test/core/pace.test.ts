// Rows by speed and probation: the job's clock length from time reports, a worker's rows from its own clocks, and a
// min holder that goes quiet put on probation, its next update re-based, and a worker that missed it told to rejoin.
import { describe, expect, it } from 'vitest'
import type { Outbox } from '../../coordinator/core/job.ts'
import { HOLD_FLOOR_MS, HOLD_UNKNOWN_MS, Pace } from '../../coordinator/core/pace.ts'
import { SspTable } from '../../coordinator/core/ssp.ts'
import { RowPacer } from '../../client/train/pace.ts'
import { afterSession } from '../../client/train/rejoin.ts'
import type { Rejection } from '../../protocol/errors.ts'
import type { ClockTime } from '../../protocol/messages.ts'
import { tinyDataset, tinyJob, workerUpdate } from '../helpers/tiny-data.ts'

const time = (clocks: number, rows: number, engineMs: number, restMs = 0): ClockTime => ({ clocks, rows, engineMs, sendMs: restMs, applyMs: 0, waitMs: 999, otherMs: 0 })

describe('Pace (the coordinator)', () => {
  it('aims at the median worker’s time for B rows, from what changed between reports; the hold follows it', () => {
    const pace = new Pace({ batch: 32, holdClocks: 2, rowsBySpeed: true })
    pace.retarget()
    expect(pace.clockMs).toBeNull()
    expect(pace.holdMs).toBe(HOLD_UNKNOWN_MS)
    // ms per row 1, 10, 100 (rest per clock 0, 500, 0): 32, 820, 3200 ms for B rows
    pace.report('fast', time(10, 320, 320))
    pace.report('mid', time(10, 320, 3200, 5000))
    pace.report('slow', time(2, 64, 6400))
    pace.retarget()
    expect(pace.clockMs).toBeCloseTo(820, 6)
    expect(pace.holdMs).toBe(1640)
    // the next report of `mid` says it got 3× slower per row: half the difference moves the estimate
    pace.report('mid', time(20, 640, 3200 + 320 * 30, 10000))
    pace.retarget()
    expect(pace.speedOf('mid')).toEqual({ perRowMs: 20, fixedMs: 500 })
    expect(pace.clockMs).toBeCloseTo(500 + 32 * 20, 6)
    pace.forget('mid')
    pace.forget('fast')
    pace.retarget()
    expect(pace.clockMs).toBe(3200)
    // a report with no new clock changes nothing
    pace.report('slow', time(2, 64, 9999))
    expect(pace.speedOf('slow')).toEqual({ perRowMs: 100, fixedMs: 0 })
  })

  it('holds at least HOLD_FLOOR_MS, never with holdClocks 0, and aims at nothing with rowsBySpeed off', () => {
    const quick = new Pace({ batch: 4, holdClocks: 2, rowsBySpeed: true })
    quick.report('a', time(10, 40, 4))
    quick.retarget()
    expect(quick.holdMs).toBe(HOLD_FLOOR_MS)
    const never = new Pace({ batch: 4, holdClocks: 0, rowsBySpeed: true })
    expect(never.holdMs).toBe(0)
    const fixed = new Pace({ batch: 4, holdClocks: 2, rowsBySpeed: false })
    fixed.report('a', time(10, 40, 400))
    fixed.retarget()
    expect(fixed.clockMs).toBeNull()
  })
})

describe('RowPacer (the worker)', () => {
  it('sizes rows so a clock takes the job’s clock length, from 1 to 4 B, B until it timed a clock', () => {
    const p = new RowPacer({ batch: 32 })
    expect(p.rows(800)).toBe(32)
    p.observe(32, 320, 100) // 10 ms a row, 100 ms of the rest
    expect(p.rows(null)).toBe(32)
    expect(p.rows(800)).toBe(70)
    expect(p.rows(50)).toBe(1)
    expect(p.rows(100_000)).toBe(128)
    // a slower clock moves the estimate a quarter of the way
    p.observe(10, 300, 100)
    expect(p.rows(800)).toBe(Math.floor(700 / (10 + 0.25 * 20)))
  })
})

describe('probation', () => {
  it('SspTable: a probationer stops counting, its next update is re-based to the min, and one stamped after it is refused with ERR_REBASED', () => {
    const t = new SspTable(1)
    for (const id of ['a', 'b']) {
      t.join(id)
      t.activate(id)
    }
    expect(t.record('a', 0, -1)).toEqual({ clock: 0, moved: false })
    expect(t.record('b', 0, -1)).toEqual({ clock: 0, moved: true })
    expect(t.record('a', 1, 0)).toEqual({ clock: 1, moved: false })
    expect([...t.holders()]).toEqual(['b'])
    // b holds the min at 1: on probation the min moves to a's clock
    expect(t.probate('b')).toBe(true)
    expect(t.min).toBe(2)
    expect(t.probations).toBe(1)
    // the last counted worker is never put on probation
    expect(t.probate('a')).toBe(false)
    expect(t.record('a', 2, 1)).toEqual({ clock: 2, moved: true })
    // b comes back with clock 1: counted at the min (3), and counting again
    expect(t.record('b', 1, 0)).toEqual({ clock: 3, moved: false })
    expect(t.rebased).toBe(1)
    expect(t.isCounted('b')).toBe(true)
    // had b not waited for that answer, its next update carries clock 2: refused, it must join again
    expect(t.validate('b', 2, 1)).toMatchObject({ ok: false, code: 'ERR_REBASED' })
    expect(t.validate('b', 4, 3)).toBeNull()
    expect(afterSession({ code: 'ERR_REBASED', reached: true, done: false, left: false, tied: true }, 0).next).toMatchObject({ action: 'rejoin', why: 'dropped' })
  })

  it('JobCore.watch: a worker that holds the min past the hold goes on probation and is told; the others go on', () => {
    const events: Array<{ to: string; event: string; msg: unknown }> = []
    const out: Outbox = { send: (to, event, msg) => events.push({ to, event, msg }), evict: (_w: string, _why: Rejection) => undefined }
    let now = 1000
    const job = tinyJob(out, () => now, { minWorkers: 2, staleness: 0, shardSize: 40, holdClocks: 2, rowsBySpeed: true }, tinyDataset(200))
    for (const id of ['a', 'b']) job.hello(id, { type: 'hello', engine: 'cpu' })
    for (const id of ['a', 'b']) job.ready(id)
    for (const id of ['a', 'b']) job.lease(id)
    const send = (w: string, clock: number, prev: number) => job.update(w, workerUpdate(job, w, clock, prev, 4).msg)
    expect(send('a', 0, -1)).toEqual({ ok: true, clock: 0 })
    expect(send('b', 0, -1)).toEqual({ ok: true, clock: 0 })
    expect(send('a', 1, 0)).toEqual({ ok: true, clock: 1 })
    // b holds the min (s = 0: a waits); within the hold nothing happens
    now += HOLD_UNKNOWN_MS
    job.watch()
    expect(job.ssp.min).toBe(1)
    now += 1
    job.watch()
    expect(job.ssp.min).toBe(2)
    expect(events.filter((e) => e.event === 'probation')).toEqual([{ to: 'b', event: 'probation', msg: { clock: 2 } }])
    expect(job.summary()).toMatchObject({ probations: 1 })
    // a goes on; b's late clock-1 update counts at the min, and replicas get it relayed at that clock
    expect(send('a', 2, 1)).toEqual({ ok: true, clock: 2 })
    expect(send('b', 1, 0)).toEqual({ ok: true, clock: 3 })
    expect(job.summary()).toMatchObject({ rebased: 1, minClock: 3 })
  })
})
