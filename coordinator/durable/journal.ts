// A job's journal on a durable store: accepted updates and undos as they happen, a snapshot every so many clocks.
import { arenaBytes } from '../../model/params.ts'
import type { JobState } from '../../protocol/job.ts'
import type { JobJournal } from '../core/job.ts'
import type { Completion } from '../core/ledger.ts'
import type { DurableStore } from './types.ts'

/** Snapshots a job keeps by default; older ones, and the updates only they need, are pruned. */
export const KEEP_SNAPSHOTS = 3

/**
 * @example
 * const journal = new StoreJournal(store, 'j-1', { snapshotEvery: 50 })
 * new JobCore(info, plan, data, out, { journal })
 */
export class StoreJournal implements JobJournal {
  /** The frontier of the last snapshot taken (−1: none yet). */
  lastSnapshot = -1
  /** What a snapshot keeps besides the model (set once the job exists: its sample count). */
  meta: () => unknown = () => ({})

  constructor(
    private readonly store: DurableStore,
    readonly job: string,
    private readonly opts: { snapshotEvery: number; keep?: number; now?: () => number },
  ) {}

  accepted(worker: string, clock: number, frame: Uint8Array): void {
    this.store.append(this.job, { worker, clock, frame })
  }

  undone(worker: string, after: number): void {
    this.store.undo(this.job, worker, after)
  }

  completed(c: Completion): void {
    this.store.complete(this.job, c)
  }

  reopened(epoch: number, shard: number): void {
    this.store.reopen(this.job, epoch, shard)
  }

  state(s: JobState): void {
    this.store.setState(this.job, s)
  }

  advanced(frontier: number, params: Float32Array): void {
    if (frontier < this.lastSnapshot + this.opts.snapshotEvery) return
    this.lastSnapshot = frontier
    this.store.snapshot(this.job, { frontier, params: arenaBytes(params), meta: this.meta(), at: (this.opts.now ?? Date.now)() })
    this.store.prune(this.job, this.opts.keep ?? KEEP_SNAPSHOTS)
  }
}
