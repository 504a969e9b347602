// What reaches a worker from others: peers' factor frames (data channel or relay) and the server's aggregates.
// Each is checked against the model, de-duplicated by the peer's update chain, and applied to the engine.
import type { ModelPlan } from '../../model/plan.ts'
import { negateParts, type Part } from '../../model/update.ts'
import { asBytes, unpackBinaries, type Binary } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'
import { readAggregate, readFrame, type RawFrame } from '../../protocol/frames.ts'
import type { Aggregate, Confirm, Correction, Snapshot, View } from '../../protocol/messages.ts'
import type { Engine } from '../gpu/engine.ts'
import { PeerClocks } from './peer-clocks.ts'
import type { WorkerStatus } from './status.ts'

/** A frame from a data channel (p2p) or from the coordinator (relay, resend). */
export interface Incoming {
  from: string
  frame: Binary
  via: 'p2p' | 'relay'
}

/** A peer's update from a data channel, held until the coordinator confirms it accepted the very same frame. */
interface Held {
  bytes: Uint8Array
  frame: RawFrame
}

type Early =
  | { kind: 'frame'; u: Incoming }
  | { kind: 'aggregate'; a: Aggregate }
  | { kind: 'clock'; min: number }
  | { kind: 'left'; peer: string; last: number }
  | { kind: 'confirm'; c: Confirm }
  | { kind: 'correction'; c: Correction }

/** A confirmed update whose frame did not come on the data channel within this long is asked of the coordinator. */
export const MISSING_AFTER_MS = 1000
/** Unconfirmed frames held per peer; beyond it the oldest go (a peer cannot fill this tab's memory). */
const MAX_HELD_PER_PEER = 64

/** What the inbox needs from its session besides the engine. */
export interface InboxHost {
  /** Tells the coordinator a confirmed update never came directly, or came different; it sends the real one. */
  report(from: string, clock: number, kind: 'missing' | 'mismatch'): void
  /** SHA-256 of bytes, hex (WebCrypto in browsers and Node). */
  digest(bytes: Uint8Array): Promise<string>
}

/**
 * Applies peers' updates in each peer's chain order, and only those the coordinator accepted: a frame from a data
 * channel waits for the coordinator's `confirm` (same SHA-256) before it counts; a relayed one counts at once. So a
 * tab that sends its peers something other than what it sent the coordinator changes no replica, and what a worker
 * states as its view (per peer, the last update applied) is exact.
 */
export class Inbox {
  /** Null until the snapshot is in: everything that arrives before waits in `early`. */
  clocks: PeerClocks | null = null
  private readonly early: Early[] = []
  /** Per peer, by clock: frames from data channels awaiting confirmation. */
  private readonly held = new Map<string, Map<number, Held>>()
  /** Per peer, by clock: confirmations whose frame has not come (yet). */
  private readonly confirms = new Map<string, Map<number, string>>()
  /** Per peer, by prev: updates the coordinator stands behind (relayed or confirmed), waiting for the one before. */
  private readonly waiting = new Map<string, Map<number, RawFrame>>()
  /** Per peer, since when (performance.now()) some of its updates have waited for an earlier one. */
  private readonly gapFrom = new Map<string, number>()
  /** This worker's own ps parts per clock, applied at once, taken back out of the aggregate that sums them in. */
  private readonly ownPs = new Map<number, Part[]>()
  /** Every server aggregate of clocks below this is applied. */
  psUpTo = 0
  /** The job's corrections applied (or already inside the snapshot). */
  corrections = 0
  /** Server aggregates and min-clock moves held while this worker's first update awaits the clock it counts at. */
  private heldServer: Early[] | null = null

  constructor(
    private readonly plan: ModelPlan,
    /** The most rows an update of the job may have (`maxRowsOf`). */
    private readonly maxRows: number,
    private readonly me: string,
    private readonly engine: Engine,
    private readonly status: WorkerStatus,
    private readonly changed: () => void,
    private readonly host: InboxHost,
  ) {}

  /** The model and what the coordinator held besides it when this worker became ready. */
  start(snap: Snapshot): void {
    this.clocks = new PeerClocks(this.me, snap.vc)
    this.psUpTo = snap.psFrom
    this.corrections = snap.corrections
    // The vector clock already counts the queued updates: they are applied here, not offered to the chain.
    for (const frame of unpackBinaries(snap.pending.frames)) {
      const f = readFrame(frame, this.plan.tensors, { expect: 'sf', maxRows: this.maxRows })
      this.engine.apply(f.parts, f.rows)
      this.status.bytes.relayReceived += frame.byteLength
    }
    for (const e of this.early.splice(0)) this.replay(e)
  }

  /** Handles an event that had to wait (for the snapshot, or for the clock a first update counts at). */
  private replay(e: Early): void {
    if (e.kind === 'frame') this.frame(e.u)
    else if (e.kind === 'aggregate') this.aggregate(e.a)
    else if (e.kind === 'clock') this.clock(e.min)
    else if (e.kind === 'confirm') this.confirm(e.c)
    else if (e.kind === 'correction') this.correction(e.c)
    else this.left(e.peer, e.last)
  }

  /** What this worker has applied: per peer the last update of its chain, and the aggregates below psUpTo. */
  view(): View {
    return { vc: this.clocks?.contigs() ?? {}, psUpTo: this.psUpTo, corrections: this.corrections }
  }

  /**
   * How long (ms) an update of this peer has waited for an earlier one that did not come (lost, or late: frames on
   * different paths overtake each other by a few ms); 0 with no gap.
   */
  gapAge(peer: string): number {
    return (this.waiting.get(peer)?.size ?? 0) > 0 ? performance.now() - (this.gapFrom.get(peer) ?? performance.now()) : 0
  }

  /** A peer's update, from a data channel (held until confirmed) or from the coordinator (trusted). */
  frame(u: Incoming): void {
    if (!this.clocks) {
      this.early.push({ kind: 'frame', u })
      return
    }
    let f: RawFrame
    try {
      f = readFrame(u.frame, this.plan.tensors, { expect: 'sf', maxRows: this.maxRows }, u.via === 'p2p' ? 'ERR_PEER_FRAME' : 'ERR_BAD_SHAPE')
    } catch (e) {
      this.status.rejectedFrames++
      console.warn(`update from ${u.from} dropped: ${(e as Error).message}`)
      return
    }
    if (!this.clocks.isNew(u.from, f.clock) || this.waiting.get(u.from)?.has(f.prev)) {
      this.status.duplicates++
      return
    }
    this.status.bytes[u.via === 'relay' ? 'relayReceived' : 'p2pReceived'] += byteLength(u.frame)
    if (u.via === 'relay') {
      this.forgetClock(u.from, f.clock)
      this.trust(u.from, f)
      return
    }
    const digest = this.confirms.get(u.from)?.get(f.clock)
    if (digest !== undefined) {
      this.confirms.get(u.from)!.delete(f.clock)
      void this.compare(u.from, asBytes(u.frame), f, digest)
      return
    }
    let held = this.held.get(u.from)
    if (!held) this.held.set(u.from, (held = new Map()))
    held.set(f.clock, { bytes: asBytes(u.frame), frame: f })
    if (held.size > MAX_HELD_PER_PEER) held.delete(held.keys().next().value!)
  }

  /** The coordinator accepted `from`'s update of `clock`, whose frame we were named to receive directly. */
  confirm(c: Confirm): void {
    if (!this.clocks) {
      this.early.push({ kind: 'confirm', c })
      return
    }
    if (!this.clocks.isNew(c.from, c.clock)) return
    const h = this.held.get(c.from)?.get(c.clock)
    if (h) {
      this.held.get(c.from)!.delete(c.clock)
      void this.compare(c.from, h.bytes, h.frame, c.digest)
      return
    }
    let list = this.confirms.get(c.from)
    if (!list) this.confirms.set(c.from, (list = new Map()))
    list.set(c.clock, c.digest)
    setTimeout(() => {
      if (this.confirms.get(c.from)?.get(c.clock) !== c.digest) return
      this.confirms.get(c.from)!.delete(c.clock)
      this.status.missingDirect++
      this.host.report(c.from, c.clock, 'missing')
    }, MISSING_AFTER_MS)
  }

  private async compare(from: string, bytes: Uint8Array, f: RawFrame, expected: string): Promise<void> {
    const got = await this.host.digest(bytes)
    if (got === expected) {
      if (this.clocks!.isNew(from, f.clock)) this.trust(from, f)
      return
    }
    this.status.mismatches++
    console.warn(`update ${f.clock} from ${from} on the data channel differs from what the coordinator accepted; asking it for the real one`)
    this.host.report(from, f.clock, 'mismatch')
  }

  /** Applies a trusted update if it is next in its sender's chain, then any that were waiting behind it. */
  private trust(from: string, f: RawFrame): void {
    const clocks = this.clocks!
    let waiting = this.waiting.get(from)
    if (!waiting) this.waiting.set(from, (waiting = new Map()))
    waiting.set(f.prev, f)
    for (let next = waiting.get(clocks.contig(from)); next; next = waiting.get(clocks.contig(from))) {
      waiting.delete(next.prev)
      if (!clocks.accept(from, next.clock, next.prev)) continue
      this.engine.apply(next.parts, next.rows)
      this.status.applied++
      this.forgetClock(from, next.clock)
    }
    if (!waiting.size) {
      this.waiting.delete(from)
      this.gapFrom.delete(from)
    } else if (!this.gapFrom.has(from)) this.gapFrom.set(from, performance.now())
    this.changed()
  }

  /** Drops held frames and confirmations of `from` up to `clock`: that update is in (or will never be). */
  private forgetClock(from: string, clock: number): void {
    for (const m of [this.held.get(from), this.confirms.get(from)]) {
      if (!m) continue
      for (const c of m.keys()) if (c <= clock) m.delete(c)
    }
  }

  /**
   * This worker's first update is on its way and the coordinator may count it at a later clock than it was stamped
   * with: until `releaseServer` says which, server aggregates wait (one of them may sum its ps parts in).
   */
  holdServer(): void {
    this.heldServer ??= []
  }

  /** The first update counts at `clock` (null: it was refused) with these ps parts; held aggregates apply now. */
  releaseServer(clock: number | null, ps: Part[]): void {
    const held = this.heldServer ?? []
    this.heldServer = null
    if (clock !== null) this.own(clock, ps)
    for (const e of held) this.replay(e)
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
    if (!this.clocks || this.heldServer) {
      ;(this.heldServer ?? this.early).push({ kind: 'clock', min })
      return
    }
    this.psUpTo = Math.max(this.psUpTo, min)
  }

  /** The server's sum of every ps part of clocks [from, to): applied without this worker's own share. */
  aggregate(a: Aggregate): void {
    if (!this.clocks || this.heldServer) {
      ;(this.heldServer ?? this.early).push({ kind: 'aggregate', a })
      return
    }
    if (a.to <= this.psUpTo) return
    if (a.from !== this.psUpTo) throw new TabgridError('ERR_BAD_SHAPE', `server aggregate of clocks [${a.from}, ${a.to}) does not follow [.., ${this.psUpTo})`)
    const parts = readAggregate(a.parts, this.plan.tensors)
    for (const [clock, own] of this.ownPs) {
      if (clock >= a.to) continue
      if (clock >= a.from) this.engine.apply(negateParts(this.plan.tensors, own, 0), 0)
      this.ownPs.delete(clock)
    }
    this.engine.apply(parts, 0)
    this.psUpTo = a.to
    this.status.bytes.psReceived += byteLength(a.parts)
    this.status.aggregates++
    this.changed()
  }

  /**
   * A quarantined peer's contribution after `c.after`, taken back: its frames this worker applied are negated, those
   * held or waiting are dropped, none after `after` will count, and its server deltas are undone.
   */
  correction(c: Correction): void {
    if (!this.clocks) {
      this.early.push({ kind: 'correction', c })
      return
    }
    if (c.seq < this.corrections) return // inside the snapshot already
    const applied = this.clocks.contig(c.from)
    for (const bytes of unpackBinaries(c.frames)) {
      const f = readFrame(bytes, this.plan.tensors, { expect: 'sf', maxRows: this.maxRows }, 'ERR_BAD_SHAPE')
      if (f.clock <= c.after || f.clock > applied) continue
      this.engine.apply(negateParts(this.plan.tensors, f.parts, f.rows), f.rows)
    }
    this.engine.apply(readAggregate(c.ps, this.plan.tensors), 0)
    this.clocks.cut(c.from, c.after)
    this.left(c.from, c.after)
    this.corrections = c.seq + 1
    this.status.corrections++
    this.changed()
  }

  /**
   * A peer left; `last` is its final update at the coordinator. Nothing of it beyond `last` will count: frames held
   * or waiting past it are dropped (nothing unconfirmed was ever applied). Returns the clock up to which we hold its
   * updates, to fetch the rest.
   */
  left(peer: string, last: number): number | undefined {
    if (!this.clocks) {
      this.early.push({ kind: 'left', peer, last })
      return undefined
    }
    this.clocks.left(peer, last)
    const waiting = this.waiting.get(peer)
    if (waiting) for (const [prev, t] of waiting) if (t.clock > last) waiting.delete(prev)
    for (const m of [this.held.get(peer), this.confirms.get(peer)]) {
      if (!m) continue
      for (const c of m.keys()) if (c > last) m.delete(c)
    }
    return this.clocks.contig(peer)
  }
}

function byteLength(b: Binary): number {
  return b.byteLength
}
