// A job's model at any clock since its oldest kept snapshot: that snapshot plus the logged updates after it.
import { arenaFromBytes } from '../../model/params.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { applyParts, negateParts } from '../../model/update.ts'
import { decodeFrame, readFrame } from '../../protocol/frames.ts'
import type { ResumeState } from '../core/job.ts'
import type { DurableStore, LoggedUpdate } from './types.ts'

export interface Rebuilt {
  params: Float32Array
  /** The frontier of the snapshot it started from (−1: the initial model). */
  from: number
  /** The log position the snapshot was taken at (−1: the initial model). */
  seq: number
  /** Updates added, and those taken out again (undone by a quarantine after the snapshot). */
  added: number
  removed: number
  /** What the snapshot it started from kept besides the model (undefined from `initial`). */
  meta: unknown
}

/**
 * The model with every accepted update of clock ≤ `clock` that no quarantine took back (a RangeError for a clock
 * before the oldest kept snapshot): the newest snapshot at or below `clock` (or `initial`, the job's starting model),
 * plus the logged updates after its frontier, minus those it holds that a quarantine undid after it was taken.
 * Updates are linear, so this is the replica's model at that clock up to float order.
 *
 * @example
 * const m = modelAt(plan, initialParams, store, 'j-1', 120).params
 */
export function modelAt(plan: ModelPlan, initial: Float32Array, store: DurableStore, job: string, clock: number): Rebuilt {
  const oldest = store.oldestFrontier(job)
  // the log below the oldest kept snapshot is pruned: from the starting model it would be missing updates
  if (oldest !== undefined && clock < oldest) throw new RangeError(`clock ${clock} is before the oldest kept snapshot (clock ${oldest})`)
  const snap = store.latestSnapshot(job, clock)
  const params = snap ? arenaFromBytes(plan, snap.params) : initial.slice()
  const from = snap?.frontier ?? -1
  let added = 0
  for (const u of store.updates(job, from, clock)) {
    if (u.undoneAt !== null) continue
    apply(plan, params, u, 1)
    added++
  }
  const out = snap ? store.undoneSince(job, from, snap.seq) : []
  for (const u of out) apply(plan, params, u, -1)
  return { params, from, seq: snap?.seq ?? -1, added, removed: out.length, meta: snap?.meta }
}

/** Adds (or takes out) one logged update. */
function apply(plan: ModelPlan, params: Float32Array, u: LoggedUpdate, sign: 1 | -1): void {
  const f = readFrame(u.frame, plan.tensors, { expect: 'all', maxRows: Number.MAX_SAFE_INTEGER })
  applyParts(params, plan.tensors, sign === 1 ? f.parts : negateParts(plan.tensors, f.parts, f.rows), f.rows)
}

/**
 * Where a job goes on after a restart: its model with every kept update (up to the highest clock logged), the clock
 * after that, the shards it completed, and the samples it trained on.
 */
export function resumeState(plan: ModelPlan, initial: Float32Array, store: DurableStore, job: string): ResumeState {
  const top = store.topClock(job)
  const r = modelAt(plan, initial, store, job, top)
  return { params: r.params, clock: top + 1, completions: store.completions(job), samples: samplesAt(store, job, r) }
}

/**
 * The samples a job had trained on when it stopped: the newest snapshot's count (every update accepted before it,
 * whatever its clock), plus the rows of the updates accepted after it, less those of updates accepted before it that
 * a quarantine took back after it. Not the rows the model replays: the snapshot's model holds only clocks ≤ its
 * frontier, so the updates above it accepted before the snapshot are replayed but already counted. `r`: the model
 * rebuilt at the top clock, whose snapshot (frontier, log position, count) this starts from.
 */
function samplesAt(store: DurableStore, job: string, { from, seq, meta }: Rebuilt): number {
  let n = (meta as { samples?: number } | undefined)?.samples ?? 0
  for (const u of store.updates(job, from, Number.MAX_SAFE_INTEGER)) {
    if (u.seq > seq) n += u.undoneAt === null ? decodeFrame(u.frame).rows : 0
    else if (u.undoneAt !== null && u.undoneAt > seq) n -= decodeFrame(u.frame).rows
  }
  for (const u of store.undoneSince(job, from, seq)) n -= decodeFrame(u.frame).rows
  return n
}
