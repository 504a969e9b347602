// The coordinator's replica of a job's model: applies every worker's updates in clock order and snapshots it.
import { applyDense, applyFactors, zeroParams, type MlrDims, type MlrParams } from '../../model/mlr.ts'
import type { RelayedUpdate } from '../../protocol/messages.ts'
import { encodeParams } from '../../model/codec.ts'

/** A validated update: its payload already checked and decoded to floats. */
export interface CheckedUpdate extends RelayedUpdate {
  floats: Float32Array
}

/**
 * Updates wait in a queue until the job's min clock passes them, then apply in (clock, sender) order, so the
 * replica at frontier F is exactly "every update with clock ≤ F" whatever order the network delivered them in.
 */
export class Replica {
  readonly params: MlrParams
  /** Every update with clock ≤ frontier is applied; none above it is. */
  frontier = -1
  /** Per sender, the clock of the last update received (applied or queued). */
  private readonly received = new Map<string, number>()
  private pending: CheckedUpdate[] = []
  applied = 0

  constructor(
    readonly dims: MlrDims,
    params?: MlrParams,
  ) {
    this.params = params ?? zeroParams(dims)
  }

  receive(u: CheckedUpdate): void {
    this.received.set(u.from, u.clock)
    this.pending.push(u)
  }

  /** Applies every queued update with clock < min; returns how many were applied. */
  advance(min: number): number {
    if (min - 1 <= this.frontier && !this.pending.some((u) => u.clock < min)) return 0
    const ready = this.pending.filter((u) => u.clock < min)
    this.pending = this.pending.filter((u) => u.clock >= min)
    ready.sort((a, b) => a.clock - b.clock || (a.from < b.from ? -1 : a.from > b.from ? 1 : 0))
    for (const u of ready) this.apply(u)
    this.frontier = Math.max(this.frontier, min - 1)
    return ready.length
  }

  /** Applies everything queued (the job is over). */
  flush(): number {
    const top = this.pending.reduce((m, u) => Math.max(m, u.clock), this.frontier)
    return this.advance(top + 1)
  }

  /** The model as bytes (W then b, little-endian f32), the per-sender vector clock and the queued updates. */
  snapshot(): { model: Uint8Array; vc: Record<string, number>; pending: RelayedUpdate[] } {
    return {
      model: encodeParams(this.params),
      vc: Object.fromEntries(this.received),
      pending: this.pending.map(({ floats: _f, ...u }) => u),
    }
  }

  private apply(u: CheckedUpdate): void {
    const { K, J } = this.dims
    if (u.form === 'factors') {
      const U = u.floats.subarray(0, u.rows * K)
      const V = u.floats.subarray(u.rows * K)
      applyFactors(this.dims, this.params, U, V, 0, u.rows)
    } else {
      applyDense(this.params, u.floats.subarray(0, K * J), u.floats.subarray(K * J))
    }
    this.applied++
  }
}
