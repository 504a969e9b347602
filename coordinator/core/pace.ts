// A job's pace: each worker's speed from its time reports, the clock length the job aims at (workers size their rows
// to it: client/train/pace.ts) and how long a worker may hold the min clock before it goes on probation.
import { rowsForClock } from '../../protocol/job.ts'
import type { ClockTime, JobPace } from '../../protocol/messages.ts'

/** A worker holding the min is never put on probation sooner than this (a GC pause, a slow round trip). */
export const HOLD_FLOOR_MS = 1000
/** The hold before the job has a clock length (nobody reported a speed yet). */
export const HOLD_UNKNOWN_MS = 5000
/** A new report weighs this much against the estimate so far. */
const EWMA = 0.5

/** How long a worker's clock takes: a part per row (its engine) and a part per clock (send, apply, the rest). */
export interface Speed {
  perRowMs: number
  fixedMs: number
}

interface Tracked extends Speed {
  /** The report the next one is compared with. */
  last: ClockTime
}

/**
 * Rows by speed (issue 8). With every update at B rows, each clock waits for the slowest live device: on a grid of
 * desktops, laptops and phones the grid ran at N·r_min/Σr ≈ 9 % of the devices' summed speed. The job's clock
 * length T is the median worker's time for B rows (from the time reports tabs send anyway); each lease says T, and
 * each worker sizes its rows (1 to ROWS_SPREAD × B) so that its own clock takes about T. Every row weighs the same
 * in an update (LeaseGrant.lr), and the rate is scaled by B / the mean rows (`meanRows`), so a clock's updates
 * still make one SGD step of the scheduled rate, averaged over all their rows.
 *
 * A worker that still holds the min after `hyper.holdClocks` clock lengths (a paused tab, a liar about its speed, a
 * device slower than its rows allow) goes on probation (JobCore.watch): nobody waits on it for longer.
 *
 * @example
 * const pace = new Pace({ batch: 32, holdClocks: 2, rowsBySpeed: true })
 * pace.report('w1', time) // from each `stats`
 * pace.retarget()          // once a second
 * pace.clockMs             // the median worker's ms for 32 rows
 */
export class Pace {
  private readonly speeds = new Map<string, Tracked>()
  private target: number | null = null
  private rows: number

  constructor(private readonly hyper: { batch: number; holdClocks: number; rowsBySpeed: boolean }) {
    this.rows = hyper.batch
  }

  /**
   * The mean rows of a worker's update at the clock length (B for a worker that has not reported): a lease's rate
   * is scaled by B / this, so a clock's updates together still make one step of the scheduled rate, averaged over
   * all their rows, however the rows spread (without it, fast workers' 4 B rows made the step up to 4× the rate).
   */
  get meanRows(): number {
    return this.rows
  }

  /** The clock length the job aims at (ms), once some worker reported its speed; null with `rowsBySpeed` off. */
  get clockMs(): number | null {
    return this.target
  }

  /** What every clock view carries. */
  view(): JobPace {
    return { clockMs: this.target, holdMs: this.holdMs }
  }

  /** ms a worker may hold the min clock before it goes on probation; 0: never. */
  get holdMs(): number {
    if (this.hyper.holdClocks === 0) return 0
    return this.target === null ? HOLD_UNKNOWN_MS : Math.max(HOLD_FLOOR_MS, Math.round(this.hyper.holdClocks * this.target))
  }

  /** A worker's cumulative time report (`stats`): its speed from what changed since the one before (or its start). */
  report(worker: string, t: ClockTime): void {
    let was = this.speeds.get(worker)
    if (!was) this.speeds.set(worker, (was = { perRowMs: NaN, fixedMs: NaN, last: NO_TIME }))
    const s = measure(t, was.last)
    if (!s) return
    was.last = { ...t }
    if (Number.isNaN(was.perRowMs)) {
      was.perRowMs = s.perRowMs
      was.fixedMs = s.fixedMs
    } else {
      was.perRowMs += EWMA * (s.perRowMs - was.perRowMs)
      was.fixedMs += EWMA * (s.fixedMs - was.fixedMs)
    }
  }

  speedOf(worker: string): Speed | undefined {
    const s = this.speeds.get(worker)
    return s && !Number.isNaN(s.perRowMs) ? { perRowMs: s.perRowMs, fixedMs: s.fixedMs } : undefined
  }

  forget(worker: string): void {
    this.speeds.delete(worker)
  }

  /** The target clock length: the median, over workers that reported, of their time for B rows. O(N log N). */
  retarget(): void {
    if (!this.hyper.rowsBySpeed) return
    const times: number[] = []
    for (const s of this.speeds.values()) if (!Number.isNaN(s.perRowMs)) times.push(s.fixedMs + this.hyper.batch * s.perRowMs)
    if (!times.length) return
    times.sort((a, b) => a - b)
    const T = (this.target = times[times.length >> 1])
    let sum = 0
    for (const s of this.speeds.values()) sum += Number.isNaN(s.perRowMs) ? this.hyper.batch : rowsForClock(s, T, this.hyper)
    this.rows = sum / this.speeds.size
  }
}

/** A worker's time before its first report. */
const NO_TIME: ClockTime = { clocks: 0, rows: 0, engineMs: 0, sendMs: 0, applyMs: 0, waitMs: 0, otherMs: 0 }

/** Per row and per clock, from two cumulative reports; null without a clock and a row more. */
function measure(t: ClockTime, before: ClockTime): Speed | null {
  const d = (k: keyof ClockTime) => t[k] - before[k]
  const clocks = d('clocks')
  const rows = d('rows')
  if (clocks < 1 || rows < 1) return null
  return { perRowMs: Math.max(0, d('engineMs')) / rows, fixedMs: Math.max(0, d('sendMs') + d('applyMs') + d('otherMs')) / clocks }
}
