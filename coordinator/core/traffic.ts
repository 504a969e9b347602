// Bytes a job moves: totals by channel, and per tensor what workers sent and received on its path.
import type { ModelPlan } from '../../model/plan.ts'
import type { Part, Path } from '../../model/update.ts'

/** Payload bytes per tensor of a list of parts. */
export function partSizes(parts: readonly Part[]): Array<{ tensor: number; bytes: number }> {
  return parts.map((p) => ({ tensor: p.tensor, bytes: p.floats.byteLength }))
}

/** Per tensor: bytes workers put on the wire for it (to peers and the coordinator) and took in (peers, relay, server). */
export interface TensorBytes {
  name: string
  shape: number[]
  path: Path
  sent: number
  received: number
  /** Of `received`, the sf bytes the coordinator relayed or resent. */
  relayed: number
}

export interface ByteTotals {
  /** Frame bytes senders put on peer-to-peer data channels (frame × peers reached). */
  p2p: number
  /** Frame bytes the coordinator forwarded to workers lacking a direct link, and resends. */
  relay: number
  /** Bytes between workers and the coordinator: update uploads, server aggregates, snapshots. */
  coordinator: number
}

export class Traffic implements ByteTotals {
  p2p = 0
  relay = 0
  coordinator = 0
  private readonly sent: Float64Array
  private readonly received: Float64Array
  private readonly relayedBytes: Float64Array

  constructor(private readonly plan: ModelPlan) {
    this.sent = new Float64Array(plan.tensors.length)
    this.received = new Float64Array(plan.tensors.length)
    this.relayedBytes = new Float64Array(plan.tensors.length)
  }

  /** A worker uploaded a whole frame to the coordinator. */
  upload(frameBytes: number, parts: readonly Part[]): void {
    this.coordinator += frameBytes
    for (const p of parts) this.sent[p.tensor] += p.floats.byteLength
  }

  /** The sender put its sf frame on `peers` data channels. */
  direct(frameBytes: number, sf: readonly Part[], peers: number): void {
    this.p2p += frameBytes * peers
    for (const p of sf) {
      this.sent[p.tensor] += p.floats.byteLength * peers
      this.received[p.tensor] += p.floats.byteLength * peers
    }
  }

  /** The coordinator forwarded an sf frame to `to` workers (relay or resend); `sizes` are its payload bytes per tensor. */
  relayed(frameBytes: number, sizes: ReadonlyArray<{ tensor: number; bytes: number }>, to = 1): void {
    this.relay += frameBytes * to
    for (const s of sizes) {
      this.received[s.tensor] += s.bytes * to
      this.relayedBytes[s.tensor] += s.bytes * to
    }
  }

  /** A server aggregate went to `to` workers. */
  aggregate(bytes: number, parts: readonly Part[], to: number): void {
    this.coordinator += bytes * to
    for (const p of parts) this.received[p.tensor] += p.floats.byteLength * to
  }

  /** A snapshot (model and queued updates) went to a joiner. */
  snapshot(bytes: number): void {
    this.coordinator += bytes
  }

  totals(): ByteTotals {
    return { p2p: this.p2p, relay: this.relay, coordinator: this.coordinator }
  }

  tensors(paths: readonly Path[]): TensorBytes[] {
    return this.plan.tensors.map((t) => ({ name: t.name, shape: t.shape, path: paths[t.index], sent: this.sent[t.index], received: this.received[t.index], relayed: this.relayedBytes[t.index] }))
  }
}
