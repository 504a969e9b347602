// The Stale Synchronous Parallel clock table of one job: who may start which clock, and the staleness seen.
import { reject, type Rejection } from '../../protocol/errors.ts'
import type { ClockView } from '../../protocol/messages.ts'

interface Entry {
  id: string
  /** The next clock this worker will stamp an update with (= iterations it has finished, counting jumps). */
  clock: number
  /** The clock of its last accepted update, −1 before the first. */
  last: number
  /** The clock of its last accepted update that carried sf parts (what peers receive), −1 before the first. */
  chain: number
  /** Holds a shard lease; only active workers hold the others back. */
  active: boolean
  /** Counts toward the min clock: active, and proven (an update accepted) or there from the job's start. */
  counted: boolean
  /** The clock its last update was stamped with, when it was re-based (−1 otherwise). */
  rebasedFrom: number
}

/** What `record` did: the clock the update was accepted at, and whether the min moved. */
export interface Recorded {
  clock: number
  moved: boolean
}

/**
 * A worker may start clock c only while every counted worker's clock is ≥ c − s (s = 0 is BSP).
 *
 * Who counts: idle workers (no shard) and departed ones hold nobody back; a worker that becomes active again jumps to
 * the table's min clock, so it never drags the others back either. A worker that joins a running job counts only from
 * its first accepted update on (before that it is *on probation*): a tab that leases a shard and never sends anything,
 * rejoining after each eviction, cannot hold the job for a stall timeout per incarnation. A counted worker that holds
 * the min too long (a paused tab, a liar about its speed) goes back on probation (`probate`) until its next update.
 * A probationer's first update that arrives after the min moved past its clock is *re-based*: accepted at the current
 * min, so every worker that started a clock since reads it within the bound (its own read was older, once). Workers there when the job started
 * (or when nobody else counts) count at once, so a job starts in lock-step.
 *
 * The min comes from per-clock counts of counted workers: O(1) amortised per update, whatever the number of workers.
 * `min` never decreases.
 *
 * @example
 * const t = new SspTable(1); t.join('a'); t.join('b'); t.activate('a'); t.activate('b')
 * t.record('a', 0, -1) // { clock: 0, moved: false }: a finished clock 0
 * t.mayStart(1)        // true: b is at 0 ≥ 1 − 1
 */
export class SspTable {
  private readonly entries = new Map<string, Entry>()
  /** Per clock, the counted workers at it. */
  private readonly counts = new Map<number, Set<string>>()
  /** Workers whose chain moved since the last `delta()`. */
  private readonly changed = new Set<string>()
  private countedN = 0
  private minClock = 0
  /** Some update was recorded: joiners from now on start on probation. */
  private started = false
  /** Largest (update clock − min clock) seen when an update arrived; never exceeds s. */
  maxObservedStaleness = 0
  /** First updates of joiners (and probationers) accepted at a later clock than they were stamped with. */
  rebased = 0
  /** Workers put on probation for holding the min too long. */
  probations = 0

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

  /** The clock a worker's next update is stamped with (a probationer's, once the min passed it, gets re-based). */
  clockOf(id: string): number | undefined {
    return this.entries.get(id)?.clock
  }

  lastOf(id: string): number {
    return this.entries.get(id)?.last ?? -1
  }

  /** The clock of the worker's last update that carried sf parts: its next update names it as `prev`. */
  chainOf(id: string): number {
    return this.entries.get(id)?.chain ?? -1
  }

  /** True when the worker holds the min back (false on probation, idle or unknown). */
  isCounted(id: string): boolean {
    return this.entries.get(id)?.counted ?? false
  }

  /** Adds a worker at the current min clock, idle. */
  join(id: string): number {
    if (!this.entries.has(id)) this.entries.set(id, { id, clock: this.minClock, last: -1, chain: -1, active: false, counted: false, rebasedFrom: -1 })
    return this.entries.get(id)!.clock
  }

  /** The worker got a shard: it is active again, starting no lower than the min. Returns its clock. */
  activate(id: string): number {
    const e = this.entries.get(id)
    if (!e) throw new Error(`unknown worker ${id}`)
    if (e.counted) return e.clock
    e.clock = Math.max(e.clock, this.minClock)
    e.active = true
    if (e.last >= 0 || !this.started || this.countedN === 0) this.count(e)
    return e.clock
  }

  /** The worker has no shard: it stops holding the others back. Returns true when the min moved. */
  deactivate(id: string): boolean {
    const e = this.entries.get(id)
    if (!e || !e.active) return false
    e.active = false
    if (e.counted) this.uncount(e)
    return this.settle()
  }

  /** The counted workers at the min clock: the ones every worker at min + s waits on. */
  holders(): Iterable<string> {
    return this.counts.get(this.minClock) ?? []
  }

  /**
   * Puts a counted worker back on probation (it held the min too long): it stops counting until its next accepted
   * update, which counts at the min if the min passed it meanwhile (re-based, as a joiner's first). Returns true when
   * the min moved. Nobody is put on probation while it is the only one counted.
   */
  probate(id: string): boolean {
    const e = this.entries.get(id)
    if (!e || !e.counted || this.countedN === 1) return false
    this.uncount(e)
    this.probations++
    return this.settle()
  }

  /** Removes a departed worker; returns its chain (its last update with sf parts) and whether the min moved. */
  remove(id: string): { last: number; moved: boolean } {
    const e = this.entries.get(id)
    if (!e) return { last: -1, moved: false }
    this.entries.delete(id)
    this.changed.delete(id)
    if (e.counted) this.uncount(e)
    return { last: e.chain, moved: this.settle() }
  }

  /** True when the SSP bound lets a worker start clock c. */
  mayStart(c: number): boolean {
    return c <= this.minClock + this.staleness
  }

  /**
   * Records that `id` finished clock `clock` (its update arrived). The clock must be the worker's next one, `prev`
   * the clock of its previous update that carried sf parts (peers chain those), and the clock within the bound.
   * `sf`: this one carries sf parts. Returns the clock it counts at (a probationer's late first update: the min) and
   * whether the min moved, or a rejection.
   */
  record(id: string, clock: number, prev: number, sf = true): Recorded | Rejection {
    const bad = this.validate(id, clock, prev)
    if (bad) return bad
    const e = this.entries.get(id)!
    const at = Math.max(clock, this.minClock)
    if (at !== clock) this.rebased++
    e.rebasedFrom = at !== clock ? clock : -1
    this.maxObservedStaleness = Math.max(this.maxObservedStaleness, at - this.minClock)
    this.started = true
    if (e.counted) this.uncount(e)
    e.last = at
    e.clock = at + 1
    if (sf) {
      e.chain = at
      this.changed.add(id)
    }
    this.count(e)
    return { clock: at, moved: this.settle() }
  }

  /** The rejection `record` would give, without recording anything; null when the update's clock is right. */
  validate(id: string, clock: number, prev: number): Rejection | null {
    const e = this.entries.get(id)
    if (!e || !e.active) return reject('ERR_LEASE', 'updates come only from a worker that holds a shard')
    // a first update may carry a clock the min has passed since (it is re-based), never a later one
    if (e.rebasedFrom >= 0 && clock === e.rebasedFrom + 1 && clock !== e.clock) {
      // the worker did not wait for the answer that re-based it: its numbering is behind for good
      return reject('ERR_REBASED', `clock ${clock} follows the update counted at ${e.clock - 1} (stamped ${e.rebasedFrom}); join again`)
    }
    if (e.last === -1 ? clock > e.clock : clock !== e.clock) return reject('ERR_CLOCK', `clock ${clock}, expected ${e.clock}`)
    if (prev !== e.chain) return reject('ERR_CLOCK', `prev ${prev}, expected ${e.chain}`)
    if (!this.mayStart(clock)) {
      return reject('ERR_CLOCK', `clock ${clock} runs ahead of the bound: min ${this.minClock} + staleness ${this.staleness}`)
    }
    return null
  }

  /** The min and every worker's chain: what a worker gets when it becomes ready. */
  view(): ClockView {
    const last: Record<string, number> = {}
    // a worker with no update of factors yet is owed nothing
    for (const [id, e] of this.entries) if (e.chain >= 0) last[id] = e.chain
    return { min: this.minClock, last }
  }

  /**
   * The min and the chains that moved since the last delta: what every ready worker gets when the min moves, the
   * same for all (one encode). Its size is the number of sf senders of those clocks, never the number of workers
   * when every tensor goes through the server.
   */
  delta(): ClockView {
    const last: Record<string, number> = {}
    for (const id of this.changed) last[id] = this.entries.get(id)!.chain
    this.changed.clear()
    return { min: this.minClock, last }
  }

  clocks(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [id, e] of this.entries) out[id] = e.clock
    return out
  }

  private count(e: Entry): void {
    e.counted = true
    let at = this.counts.get(e.clock)
    if (!at) this.counts.set(e.clock, (at = new Set()))
    at.add(e.id)
    this.countedN++
  }

  private uncount(e: Entry): void {
    e.counted = false
    const at = this.counts.get(e.clock)!
    at.delete(e.id)
    if (!at.size) this.counts.delete(e.clock)
    this.countedN--
  }

  /**
   * Moves the min up to the lowest clock a counted worker is at; when nobody counts any more, the active
   * probationers do (from the min on). Returns true when the min moved.
   */
  private settle(): boolean {
    if (this.countedN === 0) {
      for (const e of this.entries.values()) {
        if (!e.active) continue
        e.clock = Math.max(e.clock, this.minClock)
        this.count(e)
      }
      if (this.countedN === 0) return false
    }
    const from = this.minClock
    while (!this.counts.has(this.minClock)) this.minClock++
    return this.minClock !== from
  }
}
