// The Stale Synchronous Parallel clock table of one job: who may start which clock, and the staleness seen.
import { reject, type Rejection } from '../../protocol/errors.ts'
import type { ClockView } from '../../protocol/messages.ts'

interface Entry {
  /** The next clock this worker will stamp an update with (= iterations it has finished, counting jumps). */
  clock: number
  /** The clock of its last update, −1 before the first. */
  last: number
  /** Holds a shard lease; only active workers hold the others back. */
  active: boolean
}

/**
 * A worker may start clock c only while every active worker's clock is ≥ c − s (s = 0 is BSP).
 * Idle workers (no shard) and departed ones do not hold anybody back; a worker that becomes active again jumps to
 * the table's min clock, so it never drags the others back either. `min` never decreases.
 *
 * @example
 * const t = new SspTable(1); t.join('a'); t.join('b'); t.activate('a'); t.activate('b')
 * t.record('a', 0, -1) // ok: a finished clock 0
 * t.mayStart('a', 1)   // true: b is at 0 ≥ 1 − 1
 */
export class SspTable {
  private readonly entries = new Map<string, Entry>()
  private minClock = 0
  /** Largest (update clock − min clock) seen when an update arrived; never exceeds s. */
  maxObservedStaleness = 0

  constructor(
    readonly staleness: number,
    /** The min clock to start from (a job resumed after a restart goes on after its last clock). */
    start = 0,
  ) {
    this.minClock = start
  }

  get min(): number {
    return this.minClock
  }

  get max(): number {
    let m = this.minClock
    for (const e of this.entries.values()) m = Math.max(m, e.clock)
    return m
  }

  has(id: string): boolean {
    return this.entries.has(id)
  }

  clockOf(id: string): number | undefined {
    return this.entries.get(id)?.clock
  }

  lastOf(id: string): number {
    return this.entries.get(id)?.last ?? -1
  }

  /** Adds a worker at the current min clock, idle. */
  join(id: string): number {
    if (!this.entries.has(id)) this.entries.set(id, { clock: this.minClock, last: -1, active: false })
    return this.entries.get(id)!.clock
  }

  /** The worker got a shard: it counts towards the min again, starting no lower than the min. */
  activate(id: string): number {
    const e = this.entries.get(id)
    if (!e) throw new Error(`unknown worker ${id}`)
    e.clock = Math.max(e.clock, this.minClock)
    e.active = true
    return e.clock
  }

  /** The worker has no shard: it stops holding the others back. Returns true when the min moved. */
  deactivate(id: string): boolean {
    const e = this.entries.get(id)
    if (!e || !e.active) return false
    e.active = false
    return this.recompute()
  }

  /** Removes a departed worker; returns its last clock and whether the min moved. */
  remove(id: string): { last: number; moved: boolean } {
    const e = this.entries.get(id)
    if (!e) return { last: -1, moved: false }
    this.entries.delete(id)
    return { last: e.last, moved: this.recompute() }
  }

  /** True when the SSP bound lets a worker start clock c. */
  mayStart(c: number): boolean {
    return c <= this.minClock + this.staleness
  }

  /**
   * Records that `id` finished clock `clock` (its update arrived). The clock must be the worker's next one, `prev`
   * its previous update's clock, and the clock within the bound. Returns whether the min moved, or a rejection.
   */
  record(id: string, clock: number, prev: number): { moved: boolean } | Rejection {
    const bad = this.validate(id, clock, prev)
    if (bad) return bad
    const e = this.entries.get(id)!
    this.maxObservedStaleness = Math.max(this.maxObservedStaleness, clock - this.minClock)
    e.last = clock
    e.clock = clock + 1
    return { moved: this.recompute() }
  }

  /** The rejection `record` would give, without recording anything; null when the update's clock is right. */
  validate(id: string, clock: number, prev: number): Rejection | null {
    const e = this.entries.get(id)
    if (!e || !e.active) return reject('ERR_LEASE', 'updates come only from a worker that holds a shard')
    if (clock !== e.clock) return reject('ERR_CLOCK', `clock ${clock}, expected ${e.clock}`)
    if (prev !== e.last) return reject('ERR_CLOCK', `prev ${prev}, expected ${e.last}`)
    if (!this.mayStart(clock)) {
      return reject('ERR_CLOCK', `clock ${clock} runs ahead of the bound: min ${this.minClock} + staleness ${this.staleness}`)
    }
    return null
  }

  view(): ClockView {
    const last: Record<string, number> = {}
    for (const [id, e] of this.entries) last[id] = e.last
    return { min: this.minClock, last }
  }

  clocks(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [id, e] of this.entries) out[id] = e.clock
    return out
  }

  private recompute(): boolean {
    let m = Infinity
    for (const e of this.entries.values()) if (e.active) m = Math.min(m, e.clock)
    if (m === Infinity || m <= this.minClock) return false
    this.minClock = m
    return true
  }
}
