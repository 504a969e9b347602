// The coordinator's replica of a job's model: applies every update in clock order, and snapshots it for joiners.
import { applyParts, negateParts, type Part } from '../../model/update.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { arenaBytes } from '../../model/params.ts'
import { packBinaries } from '../../protocol/bytes.ts'
import type { Snapshot } from '../../protocol/messages.ts'

/** An accepted update's sf parts, waiting for the min clock to pass it; its ps parts went to the server. */
export interface QueuedUpdate {
  from: string
  clock: number
  rows: number
  sf: Part[]
  /** The same sf parts as a frame, for joiners' snapshots. */
  frame: Uint8Array
}

/**
 * sf parts wait in a queue until the job's min clock passes them, then apply in (clock, sender) order together with
 * the server's aggregate of the same clocks, so the replica at frontier F is exactly "every update with clock ≤ F"
 * whatever order the network delivered them in.
 */
export class Replica {
  readonly params: Float32Array
  /** Every update with clock ≤ frontier is applied; none above it is. */
  frontier = -1
  /** Per sender, the clock of the last update received (applied or queued). */
  private readonly received = new Map<string, number>()
  private pending: QueuedUpdate[] = []
  applied = 0

  constructor(
    readonly plan: ModelPlan,
    params: Float32Array,
  ) {
    this.params = params
  }

  receive(u: QueuedUpdate): void {
    this.received.set(u.from, u.clock)
    this.pending.push(u)
  }

  /** Applies every queued update with clock < min and the server's aggregate `ps` of those clocks. */
  advance(min: number, ps: readonly Part[]): number {
    const ready = this.pending.filter((u) => u.clock < min)
    if (ready.length) this.pending = this.pending.filter((u) => u.clock >= min)
    ready.sort((a, b) => a.clock - b.clock || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
    for (const u of ready) applyParts(this.params, this.plan.tensors, u.sf, u.rows)
    applyParts(this.params, this.plan.tensors, ps, 0)
    this.applied += ready.length
    this.frontier = Math.max(this.frontier, min - 1)
    return ready.length
  }

  /**
   * Takes back `from`'s updates after clock `after`: negates those applied (their sf parts from `frames`; the caller
   * undoes their ps parts), drops those queued, and counts `from` as holding nothing past `after`.
   */
  undo(from: string, after: number, frames: ReadonlyArray<{ clock: number; rows: number; parts: Part[] }>): void {
    for (const f of frames) {
      if (f.clock <= after || f.clock > this.frontier) continue
      applyParts(this.params, this.plan.tensors, negateParts(this.plan.tensors, f.parts, f.rows), f.rows)
    }
    this.pending = this.pending.filter((u) => u.from !== from || u.clock <= after)
    const had = this.received.get(from)
    if (had !== undefined && had > after) this.received.set(from, after)
  }

  /** Applies parts that belong to no clock (a correction's server part). */
  applyNow(parts: readonly Part[]): void {
    applyParts(this.params, this.plan.tensors, parts, 0)
  }

  /** Drops the vector-clock entries of departed senders whose every update is applied: churn leaves nothing behind. */
  forget(live: (from: string) => boolean): void {
    for (const [from, clock] of this.received) if (!live(from) && clock <= this.frontier) this.received.delete(from)
  }

  /** Senders with updates waiting for the min clock. */
  queuedSenders(): Set<string> {
    return new Set(this.pending.map((u) => u.from))
  }

  /** A sender's queued updates, oldest first. */
  queuedOf(from: string): QueuedUpdate[] {
    return this.pending.filter((u) => u.from === from).sort((a, b) => a.clock - b.clock)
  }

  /** The highest clock queued, or the frontier. */
  get top(): number {
    return this.pending.reduce((m, u) => Math.max(m, u.clock), this.frontier)
  }

  /** The model as bytes, the per-sender vector clock and the queued updates (sf parts). */
  snapshot(): { model: Uint8Array; vc: Record<string, number>; pending: Snapshot['pending'] } {
    return {
      model: arenaBytes(this.params),
      vc: Object.fromEntries(this.received),
      pending: { from: this.pending.map((u) => u.from), frames: packBinaries(this.pending.map((u) => u.frame)) },
    }
  }
}
