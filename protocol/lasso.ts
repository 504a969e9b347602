// The Lasso app on the grid (issue 9, STRADS): its job spec, hyperparameters, messages and views. Model-parallel:
// the coordinator keeps β and the residual, leases column blocks to workers, schedules coordinates round by round,
// and sends each round's residual change to every worker.
import { z } from 'zod'
import type { Binary } from './bytes.ts'
import type { DefenceView, DepartedView, JobState } from './job.ts'
import { MAX_LASSO_BLOCKS, MAX_LASSO_PICKS } from './limits.ts'

/** Hyperparameters of a Lasso job; the defaults converge on the built-in correlated data and on standardised CSVs. */
export const LassoHyperSchema = z.object({
  /** λ itself; without it, λ = lambdaFrac · λmax (λmax = maxⱼ |xⱼᵀy|, the smallest λ whose solution is β = 0). */
  lambda: z.number().finite().positive().optional(),
  lambdaFrac: z.number().finite().positive().max(1).default(0.1),
  /** sap: STRADS' priority + dependency check; shotgun: uniform at random; sequential: one coordinate a round, cyclic. */
  scheduler: z.enum(['sap', 'shotgun', 'sequential']).default('sap'),
  /** Coordinates each worker updates per round (the sequential scheduler: one in all). */
  picks: z.number().int().min(1).max(MAX_LASSO_PICKS).default(8),
  /** Columns of X per block: the unit leased to workers and fetched over HTTP. */
  blockColumns: z.number().int().min(1).max(1_000_000).default(500),
  /** Rounds in flight beyond the newest whose residual every worker holds: round t is computed on r after round t − s − 1. */
  staleness: z.number().int().min(0).max(16).default(1),
  /**
   * sap: two coordinates share a round (or rounds in flight) only if their columns' |cos| ≤ this. Default
   * max(0.1, 3/√n): two independent columns of n samples correlate at about ±1/√n, so a fixed 0.1 would hold apart
   * unrelated columns of a small set.
   */
  threshold: z.number().min(0).max(1).optional(),
  /** sap: the priority floor η, relative to the largest starting priority, so that no coordinate starves. */
  eta: z.number().positive().max(1).default(1e-4),
  /**
   * Converged: every coordinate (of a non-zero column) was updated and moved by at most this (|Δβⱼ|, columns have unit
   * norm) since the last larger move.
   */
  tolerance: z.number().positive().max(1).default(1e-5),
  maxRounds: z.number().int().min(1).max(100_000_000).default(1_000_000),
  minWorkers: z.number().int().min(1).max(256).default(1),
  /** A worker that leaves a task unanswered this long is evicted (ERR_STALLED); its blocks go to the others. */
  stallTimeoutMs: z.number().int().min(500).max(3_600_000).default(30_000),
  /** The fraction of results the coordinator recomputes from the residual the worker stated; a mismatch quarantines it. */
  verifyRate: z.number().min(0).max(1).default(0.05),
  /** Seed of the scheduler's randomness. */
  seed: z.number().int().min(0).max(2 ** 31 - 1).default(1),
})
export type LassoHyper = z.infer<typeof LassoHyperSchema>

/**
 * Body of POST /api/jobs for a Lasso job. `data`: `correlated` (the built-in generator, 2,000 × 10,000 with blocks of
 * strongly correlated columns), `correlated:NxP` (its size), or `csv:FILE` (a header row; the target column by
 * `target`, a name or 0-based index, default the first; every other column a numeric feature). Features are
 * standardised (mean 0, unit norm) and the target centred.
 */
export const CreateLassoJobSchema = z.object({
  app: z.literal('lasso'),
  name: z.string().min(1).max(80).optional(),
  data: z.string().min(1).max(4096).default('correlated'),
  target: z.union([z.string().min(1).max(256), z.number().int().min(0)]).optional(),
  /** Keep only the first N samples. */
  trainLimit: z.number().int().positive().optional(),
  hyper: LassoHyperSchema.default(LassoHyperSchema.parse({})),
})
export type CreateLassoJob = z.infer<typeof CreateLassoJobSchema>

/** What a Lasso worker needs to know about its job. */
export interface LassoJobInfo {
  id: string
  name: string
  app: 'lasso'
  state: JobState
  dataset: { name: string; n: number; p: number }
  lambda: number
  /** SAP's dependency threshold in use (hyper.threshold, or its default for n). */
  threshold: number
  hyper: LassoHyper
  blocks: { count: number; columns: number }
}

/** One column block a worker holds: columns [first, first + cols) of X, n rows each, column-major f32 at `url`. */
export interface BlockGrant {
  block: number
  first: number
  cols: number
  url: string
}

// ── messages a Lasso worker sends (after a `hello` its job answered as a Lasso job) ─────────────────────────────────
const Bytes = z.custom<Binary>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, 'binary payload')

/** Ready for rounds: the answer carries the residual. */
export const LassoReadySchema = z.object({ type: z.literal('lasso-ready'), engine: z.enum(['webgpu', 'cpu']).optional() })
/**
 * The worker fetched these blocks (granted in `lasso-blocks`) and can take coordinates of them. `version`: that of the
 * newest `lasso-blocks` it had taken in; where a newer one is on its way (a block moved meanwhile), the blocks it no
 * longer holds are passed over instead of refused.
 */
export const LassoHoldSchema = z.object({
  type: z.literal('lasso-hold'),
  blocks: z.array(z.number().int().min(0)).max(MAX_LASSO_BLOCKS),
  version: z.number().int().min(0).optional(),
})
/**
 * A task's answer: Δβ per pick, in the task's order, as f32 little-endian; `view`, the newest round whose residual
 * change the worker had applied when it computed them.
 */
export const LassoResultSchema = z.object({
  type: z.literal('lasso-result'),
  round: z.number().int().min(0),
  view: z.number().int().min(-1),
  deltas: Bytes.refine((b) => b.byteLength <= 4 * MAX_LASSO_PICKS * 16, 'deltas too large'),
})
export const LassoMessageSchemas = {
  'lasso-ready': LassoReadySchema,
  'lasso-hold': LassoHoldSchema,
  'lasso-result': LassoResultSchema,
} as const

/** The coordinator's answers to them. */
export interface LassoReplies {
  /** The residual after `round` (−1: none yet), f32; round changes after it follow as `lasso-round` events. */
  'lasso-ready': { ok: true; round: number; r: Binary }
  'lasso-hold': { ok: true }
  'lasso-result': { ok: true }
}

/** Events the coordinator pushes to Lasso workers. */
export interface LassoServerEvents {
  /**
   * Every block the worker holds now: it fetches the new ones, and drops the others once earlier tasks are done.
   * `version` goes up by one with each such message to the worker.
   */
  'lasso-blocks': (m: { version: number; blocks: BlockGrant[] }) => void
  /**
   * The worker's coordinates of a round: `picks` u32 column indices (of X, in blocks it holds), `beta` their current
   * values (f32). It answers `lasso-result` once it has applied the residual change of round − s − 1.
   */
  'lasso-task': (m: { round: number; picks: Binary; beta: Binary }) => void
  /**
   * A round is done: its residual change dr (f32, n; r −= dr), or, every few rounds, the residual itself (`r`) so
   * that float32 sums do not drift. Rounds come in order.
   */
  'lasso-round': (m: { round: number; dr?: Binary; r?: Binary }) => void
}

/** A point of the objective curve: after `round`, at time t. */
export interface LassoPoint {
  t: number
  round: number
  objective: number
  nonzeros: number
  updates: number
}

/** A Lasso job in GET /api/jobs: what the console and `tabgrid run --app lasso --json` show. */
export interface LassoSummary {
  id: string
  app: 'lasso'
  name: string
  state: JobState
  dataset: LassoJobInfo['dataset']
  lambda: number
  hyper: LassoHyper
  workers: number
  /** Rounds completed. */
  rounds: number
  /** Coordinate updates applied. */
  updates: number
  objective: number
  /** ½‖y‖²: the objective at β = 0. */
  initialObjective: number
  nonzeros: number
  blocks: { count: number; held: number }
  /** Why the job ended: converged (tolerance), maxRounds. */
  stop: 'converged' | 'maxRounds' | null
  /** Why the job is paused or failed (`paused by the operator`, `cancelled by the operator`); null otherwise. */
  reason: string | null
  createdAt: number
  startedAt: number | null
  finishedAt: number | null
}

export interface LassoWorkerView {
  id: string
  engine: 'webgpu' | 'cpu'
  adapter: string
  ready: boolean
  blocks: number[]
  /** Tasks answered. */
  rounds: number
  updates: number
  joinedAt: number
  /** The volunteer pressed Pause: its blocks went to the others until it resumes. */
  paused: boolean
}

/** GET /api/jobs/:id of a Lasso job. */
export interface LassoDetail extends LassoSummary {
  info: LassoJobInfo
  curve: LassoPoint[]
  workersList: LassoWorkerView[]
  /** Rejected worker messages by code, quarantines (a result that failed its checks), and results re-computed. */
  defence: DefenceView & { verified: number }
  /** Residual bytes sent to workers (the rounds' changes and refreshes). */
  bytes: { coordinator: number }
  /** Workers that left, newest last: `samples` counts their coordinate updates, `clock` their tasks answered. */
  departed: DepartedView[]
}
