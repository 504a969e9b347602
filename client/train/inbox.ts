// What reaches a worker from others: peers' factor frames (data channel or relay) and the server's aggregates.
// Each is checked against the model, de-duplicated by the peer's update chain, and applied to the engine.
import type { ModelPlan } from '../../model/plan.ts'
import { negatePart, type Part } from '../../model/update.ts'
import type { Binary } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'
import { readAggregate, readFrame } from '../../protocol/frames.ts'
import type { Aggregate, Snapshot } from '../../protocol/messages.ts'
import type { Engine } from '../gpu/engine.ts'
import { PeerClocks } from './peer-clocks.ts'
import type { WorkerStatus } from './status.ts'

/** A frame from a data channel (p2p) or from the coordinator (relay, resend). */
export interface Incoming {
  from: string
  frame: Binary
  via: 'p2p' | 'relay'
}

/** A peer's update applied from a data channel that the coordinator has not confirmed yet. */
interface Unconfirmed {
  clock: number
  rows: number
  parts: Part[]
}

type Early =
  | { kind: 'frame'; u: Incoming }
  | { kind: 'aggregate'; a: Aggregate }
  | { kind: 'clock'; min: number }
  | { kind: 'left'; peer: string; last: number }

export class Inbox {
  /** Null until the snapshot is in: everything that arrives before waits in `early`. */
  clocks: PeerClocks | null = null
  private readonly early: Early[] = []
  private readonly unconfirmed = new Map<string, Unconfirmed[]>()
  /** This worker's own ps parts per clock, applied at once, taken back out of the aggregate that sums them in. */
  private readonly ownPs = new Map<number, Part[]>()
  /** Every server aggregate of clocks below this is applied. */
  psUpTo = 0

  constructor(
    private readonly plan: ModelPlan,
    private readonly batch: number,
    private readonly me: string,
    private readonly engine: Engine,
    private readonly status: WorkerStatus,
    private readonly changed: () => void,
  ) {}

  /** The model and what the coordinator held besides it when this worker became ready. */
  start(snap: Snapshot): void {
    this.clocks = new PeerClocks(this.me, snap.vc)
    this.psUpTo = snap.psFrom
    // The vector clock already counts the queued updates: they are applied here, not offered to the chain.
    for (const u of snap.pending) {
      const f = readFrame(u.frame, this.plan.tensors, { expect: 'sf', maxRows: this.batch })
      this.engine.apply(f.parts, f.rows)
      this.status.bytes.relayReceived += byteLength(u.frame)
    }
    for (const e of this.early.splice(0)) {
      if (e.kind === 'frame') this.frame(e.u)
      else if (e.kind === 'aggregate') this.aggregate(e.a)
      else if (e.kind === 'clock') this.clock(e.min)
      else this.left(e.peer, e.last)
    }
  }

  /** A peer's update: dropped with a count if malformed or already applied, else applied. */
  frame(u: Incoming): void {
    if (!this.clocks) {
      this.early.push({ kind: 'frame', u })
      return
    }
    let f
    try {
      f = readFrame(u.frame, this.plan.tensors, { expect: 'sf', maxRows: this.batch }, u.via === 'p2p' ? 'ERR_PEER_FRAME' : 'ERR_BAD_SHAPE')
    } catch (e) {
      this.status.rejectedFrames++
      console.warn(`update from ${u.from} dropped: ${(e as Error).message}`)
      return
    }
    if (!this.clocks.accept(u.from, f.clock, f.prev)) {
      this.status.duplicates++
      return
    }
    this.status.bytes[u.via === 'relay' ? 'relayReceived' : 'p2pReceived'] += byteLength(u.frame)
    this.engine.apply(f.parts, f.rows)
    if (u.via === 'p2p') {
      let list = this.unconfirmed.get(u.from)
      if (!list) this.unconfirmed.set(u.from, (list = []))
      list.push({ clock: f.clock, rows: f.rows, parts: f.parts })
    }
    this.status.applied++
    this.changed()
  }

  /** This worker's own update for `clock` carried these ps parts (already applied by its step). */
  own(clock: number, ps: Part[]): void {
    if (ps.length) this.ownPs.set(clock, ps)
  }

  /**
   * The job's min clock moved to `min`: the server sent the aggregate of the clocks below it just before, or had
   * nothing for them (no ps part in those clocks), so every aggregate below `min` is in.
   */
  clock(min: number): void {
    if (!this.clocks) {
      this.early.push({ kind: 'clock', min })
      return
    }
    this.psUpTo = Math.max(this.psUpTo, min)
  }

  /** The server's sum of every ps part of clocks [from, to): applied without this worker's own share. */
  aggregate(a: Aggregate): void {
    if (!this.clocks) {
      this.early.push({ kind: 'aggregate', a })
      return
    }
    if (a.to <= this.psUpTo) return
    if (a.from !== this.psUpTo) throw new TabgridError('ERR_BAD_SHAPE', `server aggregate of clocks [${a.from}, ${a.to}) does not follow [.., ${this.psUpTo})`)
    const parts = readAggregate(a.parts, this.plan.tensors)
    for (const [clock, own] of this.ownPs) {
      if (clock >= a.to) continue
      if (clock >= a.from) this.engine.apply(own.map((p) => negatePart(this.plan.tensors[p.tensor], p, 0)), 0)
      this.ownPs.delete(clock)
    }
    this.engine.apply(parts, 0)
    this.psUpTo = a.to
    this.status.bytes.psReceived += byteLength(a.parts)
    this.status.aggregates++
    this.changed()
  }

  /** The coordinator holds these peers' updates up to `last[peer]`: they can no longer be taken back. */
  confirm(last: Record<string, number>): void {
    for (const [peer, list] of this.unconfirmed) {
      const upTo = last[peer]
      if (upTo === undefined) continue
      const keep = list.filter((e) => e.clock > upTo)
      if (keep.length) this.unconfirmed.set(peer, keep)
      else this.unconfirmed.delete(peer)
    }
  }

  /**
   * A peer left; `last` is its final update at the coordinator. Updates it sent us directly that never reached the
   * coordinator (its tab closed mid-send) are undone, so this replica stays equal to the coordinator's, which is
   * what every joiner starts from. Returns the clock up to which we hold its updates, to fetch the rest.
   */
  left(peer: string, last: number): number | undefined {
    if (!this.clocks) {
      this.early.push({ kind: 'left', peer, last })
      return undefined
    }
    for (const e of this.unconfirmed.get(peer) ?? []) {
      if (e.clock <= last) continue
      this.engine.apply(e.parts.map((p) => negatePart(this.plan.tensors[p.tensor], p, e.rows)), e.rows)
      this.status.reverted++
    }
    this.unconfirmed.delete(peer)
    this.clocks.left(peer, last)
    return this.clocks.contig(peer)
  }
}

function byteLength(b: Binary): number {
  return b.byteLength
}
