// What a quarantine takes back: per worker, what it added since its last verified update (server deltas, shards).
import { denseParts, sumDense, type Part } from '../../model/update.ts'

interface Since {
  /** The clock of the worker's last update that re-computation verified (-1: none yet). */
  after: number
  /** Per tensor, the sum of the worker's server (ps) deltas of the clocks after `after`. */
  ps: Map<number, Float32Array>
  /** Its updates after `after`, and the samples they covered. */
  updates: number
  rows: number
  /** Shards it completed with updates after `after`, and its clock when it did. */
  shards: Array<{ epoch: number; shard: number; clock: number }>
}

/** A quarantined worker's contribution to take back; its sf updates after `after` come from the update log. */
export interface Contribution {
  after: number
  /** Dense parts that undo its server deltas since `after` (each the negated sum). */
  ps: Part[]
  /** Its updates since `after`, and the samples they covered (they no longer count). */
  updates: number
  rows: number
  shards: Array<{ epoch: number; shard: number }>
}

/**
 * Updates are linear, so a worker's contribution since its last verified update can be undone by negating it. The
 * sf updates are in the log already; this keeps the rest: the running sum of its server deltas (one tensor-sized
 * buffer per ps tensor and worker, however many clocks), and the shards it completed, which go back to the pool.
 *
 * @example
 * const u = new Unverified()
 * u.accepted('w-1', parts4); u.verified('w-1', 4) // clock 4 checked: nothing before it is taken back
 * u.accepted('w-1', parts5); u.take('w-1')         // { after: 4, ps: −(clock 5's ps deltas), shards: [] }
 */
export class Unverified {
  private readonly byWorker = new Map<string, Since>()

  /** An accepted update of `worker` of `rows` samples put these parts through the server (others are ignored). */
  accepted(worker: string, ps: readonly Part[], rows: number): void {
    const w = this.of(worker)
    sumDense(w.ps, ps)
    w.rows += rows
    w.updates++
  }

  /** Re-computation matched the worker's update of `clock`: nothing up to it will be taken back. */
  verified(worker: string, clock: number): void {
    const w = this.of(worker)
    w.after = clock
    w.ps.clear()
    w.rows = 0
    w.updates = 0
    w.shards = w.shards.filter((s) => s.clock > clock)
  }

  /** The worker completed a shard; `clock` is its last update's. */
  shardDone(worker: string, epoch: number, shard: number, clock: number): void {
    this.of(worker).shards.push({ epoch, shard, clock })
  }

  /** What to take back of `worker`, forgetting it. */
  take(worker: string): Contribution {
    const w = this.byWorker.get(worker) ?? { after: -1, ps: new Map(), updates: 0, rows: 0, shards: [] }
    this.byWorker.delete(worker)
    const ps = denseParts(w.ps).map((p) => ({ ...p, floats: p.floats.map((v) => -v) }))
    return { after: w.after, ps, updates: w.updates, rows: w.rows, shards: w.shards.map(({ epoch, shard }) => ({ epoch, shard })) }
  }

  /** A worker that left in good standing: nothing of it will be taken back. */
  forget(worker: string): void {
    this.byWorker.delete(worker)
  }

  get size(): number {
    return this.byWorker.size
  }

  private of(worker: string): Since {
    let w = this.byWorker.get(worker)
    if (!w) this.byWorker.set(worker, (w = { after: -1, ps: new Map(), updates: 0, rows: 0, shards: [] }))
    return w
  }
}
