// What a coordinator keeps on disk, behind one interface: jobs, the log of accepted updates, and model snapshots.
import type { JobState } from '../../protocol/job.ts'
import type { Completion } from '../core/ledger.ts'

/** A job as it was created (the validated spec and what it resolved to) and the state it is in. */
export interface StoredJob {
  id: string
  /** The job's creation input, as JSON (CreateJob with its data path as resolved). */
  spec: unknown
  state: JobState
  createdAt: number
}

/** An accepted update: the whole frame a worker sent (sf and ps parts), in acceptance order. */
export interface UpdateRecord {
  worker: string
  clock: number
  frame: Uint8Array
}

/** A model snapshot: the replica's parameters at `frontier` (every accepted update with clock ≤ frontier). */
export interface SnapshotRecord {
  frontier: number
  /** The log position the snapshot was taken at: updates undone after it are baked into `params`. */
  seq: number
  params: Uint8Array
  /** The rest of the job's state, as JSON (ledger, counters). */
  meta: unknown
  at: number
}

/** A stored update, with its place in the log. */
export interface LoggedUpdate extends UpdateRecord {
  seq: number
  /** The log position of the quarantine that took it back, or null. */
  undoneAt: number | null
}

/** What a job's data take on disk. */
export interface DiskUse {
  updates: number
  snapshots: number
  bytes: number
}

/**
 * A coordinator's durable state. Writes may be buffered (`flush` forces them out); reads see what was written. The
 * embedded default is SQLite (durable/sqlite-store.ts); a networked store (Postgres, Redis) implements the same to let
 * several coordinator processes share jobs.
 */
export interface DurableStore {
  saveJob(job: StoredJob): void
  jobs(): StoredJob[]
  setState(job: string, state: JobState): void
  /** A shard processed in an epoch (kept for the ledger), or taken back (`reopen`). */
  complete(job: string, c: Completion): void
  reopen(job: string, epoch: number, shard: number): void
  completions(job: string): Completion[]
  /** The highest clock of a kept update that no quarantine took back (−1: none). */
  topClock(job: string): number
  /** Appends an accepted update; returns its log position. */
  append(job: string, u: UpdateRecord): number
  /** Marks `worker`'s updates after clock `after` as taken back by a quarantine (at a new log position). */
  undo(job: string, worker: string, after: number): number
  snapshot(job: string, s: Omit<SnapshotRecord, 'seq'>): void
  /**
   * The frontier of the oldest snapshot kept (the log below it is pruned), or undefined with none. A job's starting
   * model, when it did not start from the initial one, is a snapshot at frontier −1 that is never pruned.
   */
  oldestFrontier(job: string): number | undefined
  /** The newest snapshot with frontier ≤ maxFrontier (the newest of all without it). */
  latestSnapshot(job: string, maxFrontier?: number): SnapshotRecord | undefined
  /** Updates with fromClock < clock ≤ toClock, in log order. */
  updates(job: string, fromClock: number, toClock: number): LoggedUpdate[]
  /** Updates with clock ≤ frontier undone after log position `seq` (baked into a snapshot taken at seq). */
  undoneSince(job: string, frontier: number, seq: number): LoggedUpdate[]
  /** Keeps the newest `keep` snapshots of the job and the updates they may still need. */
  prune(job: string, keep: number): void
  disk(job: string): DiskUse
  flush(): void
  close(): void
}
