// A job's description as the API takes it and as workers receive it.
import type { ClockTime } from './messages.ts'
import { z } from 'zod'
import type { NormBounds } from '../model/clip.ts'
import type { ModelSpec } from '../model/spec.ts'
import type { LassoPoint, LassoSummary } from './lasso.ts'
import type { Path } from '../model/update.ts'
import { DEFAULT_PEER_LINKS, MAX_BATCH, MAX_MODEL_JSON, MAX_PEER_LINKS, ROWS_SPREAD } from './limits.ts'

/** Hyperparameters an operator may set; the defaults train every preset on MNIST-like data without tuning. */
export const HyperSchema = z.object({
  /** η₀: the learning rate at the start; the schedule lowers it as epochs pass. */
  lr: z.number().finite().positive().max(100).default(0.5),
  /** How the rate falls as epochs e pass: cosine η₀·½(1 + cos(π·e/epochs)) to 0 at the end, invsqrt, step, constant. */
  lrSchedule: z.enum(['constant', 'invsqrt', 'step', 'cosine']).default('cosine'),
  /** τ, in epochs: invsqrt η₀/√(1 + e/τ), step η₀·γ^⌊e/τ⌋. */
  lrDecayEpochs: z.number().finite().positive().max(10_000).default(1),
  /** γ of the step schedule. */
  lrStepFactor: z.number().finite().positive().max(1).default(0.5),
  batch: z.number().int().min(1).max(4096).default(32),
  staleness: z.number().int().min(0).max(1_000_000).default(2),
  fanout: z.number().int().min(1).max(256).optional(),
  /**
   * WebRTC links per worker at most, both ways: a joiner links with up to this many members that have fewer, so no
   * tab holds more, whatever the job's size; 0 sends everything through the coordinator.
   */
  peerLinks: z.number().int().min(0).max(MAX_PEER_LINKS).default(DEFAULT_PEER_LINKS),
  /** How tensors travel: Poseidon's rule from live numbers (auto), or every dense kernel as factors (sf), or all dense via the server (ps). */
  paths: z.enum(['auto', 'sf', 'ps']).default('auto'),
  epochs: z.number().int().min(1).max(10_000).default(3),
  shardSize: z.number().int().min(1).max(1_000_000).default(250),
  minWorkers: z.number().int().min(1).max(256).default(1),
  stallTimeoutMs: z.number().int().min(500).max(3_600_000).default(30_000),
  linkTimeoutMs: z.number().int().min(100).max(120_000).default(8_000),
  /**
   * The fraction of updates the coordinator re-computes from the view the worker stated (secretly sampled); a
   * mismatch quarantines the worker. 0 turns re-computation off.
   */
  verifyRate: z.number().min(0).max(1).default(0.05),
  /**
   * Gradient clipping: each update part's norm per unit of rate is clipped at this many times the median norm of
   * reference steps on the initial model; workers clip, the coordinator refuses anything over it.
   */
  clip: z.number().finite().min(2).max(1e6).default(20),
  /** With a data directory, the model is snapshotted every this many clocks (the updates between are logged too). */
  snapshotEvery: z.number().int().min(1).max(1_000_000).default(100),
  /**
   * A worker that holds the min clock (everyone else waits on it) for this many of the job's clock lengths (at least
   * HOLD_FLOOR_MS) without an update goes on probation: it stops counting toward the min until its next update, which
   * counts at the min then (a paused tab holds nobody back). 0 (the default for now): never; the slowest worker
   * always holds the others. The grid simulator runs with 2.
   */
  holdClocks: z.number().finite().min(0).max(1000).default(0),
  /**
   * Each worker sizes its updates' rows to its speed (1 to 4 B) so a clock takes about as long on every device
   * (coordinator/core/pace.ts); false (the default for now: short runs of the attack suite varied more with it):
   * every update has B rows, and the slowest device sets the pace. The grid simulator runs with it on.
   */
  rowsBySpeed: z.boolean().default(false),
})
export type Hyper = z.infer<typeof HyperSchema>

/**
 * The most rows an update of this job may have: a lease gives each worker rows in proportion to its speed
 * (coordinator/core/pace.ts), from 1 to ROWS_SPREAD × B, so that a clock takes about as long on every device.
 */
export function maxRowsOf(hyper: Pick<Hyper, 'batch'>): number {
  return Math.min(MAX_BATCH, hyper.batch * ROWS_SPREAD)
}

/**
 * The rows a worker computes in `clockMs`, from its ms per row and the rest of its clock per clock: 1 to
 * `maxRowsOf(hyper)`. The worker sizes its updates with it (client/train/pace.ts), the coordinator its rates.
 */
export function rowsForClock(speed: { perRowMs: number; fixedMs: number }, clockMs: number, hyper: Pick<Hyper, 'batch'>): number {
  const max = maxRowsOf(hyper)
  const rows = speed.perRowMs > 0 ? Math.floor((clockMs - speed.fixedMs) / speed.perRowMs) : max
  return Math.max(1, Math.min(max, rows))
}

/** A model: a preset name (`mlr`, `mlp:256,128`, `cnn`) or a layer list (model/spec.ts), checked when the job is made. */
export const ModelInputSchema = z.union([
  z.string().min(1).max(256),
  z.record(z.string(), z.unknown()).refine((v) => JSON.stringify(v).length <= MAX_MODEL_JSON, `a model description is at most ${MAX_MODEL_JSON} bytes of JSON`),
])

/** Body of POST /api/jobs. */
export const CreateJobSchema = z.object({
  name: z.string().min(1).max(80).optional(),
  model: ModelInputSchema.default('mlr'),
  data: z.string().min(1).max(4096).default('builtin'),
  trainLimit: z.number().int().positive().optional(),
  hyper: HyperSchema.default(HyperSchema.parse({})),
})
export type CreateJob = z.infer<typeof CreateJobSchema>

export type JobState = 'pending' | 'running' | 'paused' | 'done' | 'failed'

/** States a job never leaves. */
export function isEnded(state: JobState): boolean {
  return state === 'done' || state === 'failed'
}

/**
 * Whether a refusal only says that the job ended while the message was on its way (an operator's cancel): for the
 * worker that is the end of its work, not an error.
 */
export function endedUnder(code: string | undefined, state: JobState): boolean {
  return code === 'ERR_JOB_CLOSED' && isEnded(state)
}

/** What an operator may do to a job (POST /api/jobs/:id/pause|resume|cancel). */
export type JobControl = 'pause' | 'resume' | 'cancel'

/**
 * A worker that left a job, as the job page keeps it (greyed, with what it gave): its engine, when it came and went,
 * why it went (`left`: it closed or was closed; else the code it was removed with), and what it contributed.
 */
export interface DepartedView {
  id: string
  engine: 'webgpu' | 'cpu'
  adapter: string
  joinedAt: number
  leftAt: number
  why: string
  /** SGD: samples its accepted updates carried (less what a quarantine took back); Lasso: coordinate updates. */
  samples: number
  /** SGD: the clock after its last accepted update; Lasso: tasks answered. */
  clock: number | null
}

/** One sample of a job's progress, taken once a second while it runs (the job page's samples/s and SSP spread). */
export interface ProgressPoint {
  t: number
  minClock: number
  maxClock: number
  /** Samples processed so far (SGD) or coordinate updates (Lasso). */
  samples: number
  workers: number
}

/**
 * The engine a worker is asked to train with (`?engine=`, `tabgrid worker --engine`, `tabgrid run --engine`): auto
 * picks (client/gpu/engine-choice.ts), webgpu and cpu insist.
 */
export type EngineAsk = 'auto' | 'webgpu' | 'cpu'

/** What a worker needs to know about its job. */
export interface JobInfo {
  id: string
  name: string
  state: JobState
  /** The model, parsed and normalised: every worker plans it against `dataset` and gets the same arena layout. */
  model: ModelSpec
  dataset: { name: string; features: number; classes: number; train: number; test: number; imageShape?: [number, number] }
  hyper: Hyper
  shards: { count: number; size: number }
  /** Per tensor, the norm bounds every update part is clipped to (per unit of rate), fixed when the job is made. */
  bounds: NormBounds
}

/** How each tensor travels now, and the live numbers the choice came from (model/comm.ts). */
export interface CommView {
  /** Goes up by one at every new decision. */
  version: number
  /** Per arena tensor. */
  paths: Path[]
  workers: number
  batch: number
  fanout?: number
}

/** One row of GET /api/jobs. */
export interface JobSummary {
  app: 'sgd'
  id: string
  name: string
  state: JobState
  /** The model's name (preset or file) and its parameter count. */
  model: string
  params: number
  workers: number
  minClock: number
  maxClock: number
  maxObservedStaleness: number
  /** Joiners' (and probationers') first updates that arrived after the min passed their clock, counted at the min instead. */
  rebased: number
  /** Workers put on probation for holding the min clock longer than the job's hold (`hyper.holdClocks`). */
  probations: number
  /** The clock length the job aims at (ms): the median worker's time for B rows; workers size their rows to it. */
  clockMs: number | null
  epoch: number
  shardsDone: number
  shardsTotal: number
  testAccuracy: number | null
  testLoss: number | null
  /** The best test accuracy any evaluation saw. */
  bestTestAccuracy: number | null
  /** The learning rate of the newest lease. */
  lr: number
  samplesPerSecond: number
  /** Samples in accepted updates so far (less what quarantines took back). */
  samples: number
  /** Why the job is paused or failed (`paused by the operator`, `cancelled by the operator`, an error); null otherwise. */
  reason: string | null
  createdAt: number
  hyper: Hyper
  dataset: JobInfo['dataset']
}

/** Bytes per tensor and path (GET /api/jobs/:id and `tabgrid run --json`). */
export interface TensorBytesView {
  name: string
  shape: number[]
  path: Path
  sent: number
  received: number
  /** Of `received`, what came through the coordinator's relay (no direct link) or as resends of missing frames. */
  relayed: number
}

export interface WorkerView {
  id: string
  engine: 'webgpu' | 'cpu'
  adapter: string
  ready: boolean
  clock: number | null
  samples: number
  samplesPerSecond: number
  lastLoss: number | null
  firstLoss: number | null
  links: Record<string, 'p2p' | 'relay'>
  bytes: { p2pSent: number; p2pReceived: number; relayReceived: number; psReceived: number; coordinatorSent: number }
  leases: Array<{ shard: number; epoch: number }>
  /** Where its clocks went (ms summed over `clocks`), as it last reported. */
  time?: ClockTime
  joinedAt: number
  /** The volunteer pressed Pause: it holds no shard and does not count toward the min clock until it resumes. */
  paused: boolean
  /** The volunteer's throttle: the fraction of the time it computes (1 = flat out), as it last reported. */
  duty: number
}

/** What the job's defences did (README: "Defences"). */
export interface DefenceView {
  /** Rejected worker messages by error code. */
  rejected: Partial<Record<string, number>>
  quarantines: number
  /** What quarantines took back: updates since each offender's last verified one, and shards to process again. */
  undone: { updates: number; shards: number }
  /** The newest quarantines: the worker, why, when, how many of its updates were taken back. */
  recent: Array<{ worker: string; reason: string; at: number; undone: number }>
  /** Direct receivers' reports on updates confirmed to them: never came, came different. */
  reports: { missing: number; mismatch: number }
  /** Workers whose direct-delivery claims failed too often: all their updates go through the relay. */
  flagged: string[]
}

/** What the socket edge refused or held back for a job; README "Defences" names each code. */
export interface EdgeView {
  /** Messages refused with ERR_RATE_LIMITED. */
  rateLimited: number
  /** Sockets closed because they kept sending over their rate. */
  floodClosed: number
  /** Connections refused (before the websocket upgrade) from an address whose sockets were recently cut off. */
  floodRefused: number
  /** Hellos refused with ERR_ADDRESS_LIMIT (too many sockets from one address). */
  addressLimited: number
  /** Workers evicted with ERR_READY_TIMEOUT (hello but no ready in time). */
  readyTimeouts: number
  /** Hellos refused with ERR_BANNED (the address was banned from the job). */
  banned: number
  /** Addresses banned from the job after quarantines. */
  bannedAddresses: number
  /** Joiners whose first lease was held back after stall evictions from their address. */
  backoffs: number
  /** Connections closed for a packet over the socket.io bounds (size, attachments) or malformed. */
  badPackets: number
  /** Connections closed for not saying hello in time (coordinator-wide only: they named no job). */
  helloTimeouts: number
}

/** GET /api/jobs/:id: the summary, the model's layers and tensors with their paths, workers, curve and ledger. */
export interface JobDetail extends JobSummary {
  info: JobInfo
  bytes: { p2p: number; relay: number; coordinator: number; tensors: TensorBytesView[] }
  layers: Array<{ name: string; type: string; inShape: number[]; outShape: number[]; activation: string }>
  tensors: Array<{ name: string; shape: number[]; offset: number; size: number; path: Path }>
  /** The current path decision and every earlier one. */
  comm: CommView & { history: Array<{ t: number; clock: number; version: number; workers: number; batch: number; fanout?: number; paths: Path[] }> }
  clocks: Record<string, number>
  workersList: WorkerView[]
  /** Test evaluations: the first and the final on the whole test split, those between on a fixed random subset. */
  curve: Array<{ t: number; clock: number; testAccuracy: number; testLoss: number; samples: number }>
  ledger: Array<{ epoch: number; processed: number; shards: number; missing: number[] }>
  returned: Array<{ worker: string; shard: number; epoch: number }>
  defence: DefenceView
  /** The socket edge's refusals for this job. */
  edge: EdgeView
  /** Workers that left, newest last (the last MAX_DEPARTED). */
  departed: DepartedView[]
  /** Progress once a second: clocks, samples, workers (thinned to at most MAX_PROGRESS_POINTS as it grows). */
  progress: ProgressPoint[]
  /** With a data directory: what the job keeps there, and the oldest clock its model can be rebuilt at. */
  disk?: { updates: number; snapshots: number; bytes: number; oldestClock: number }
  startedAt: number | null
  finishedAt: number | null
}

/**
 * GET /api/jobs/:id/glance: what a volunteer's page polls every few seconds, the summary, when the job started and its
 * curve, without the worker lists that make the detail grow with the grid.
 */
export type JobGlance = (JobSummary & { startedAt: number | null; curve: JobDetail['curve'] }) | (LassoSummary & { curve: LassoPoint[] })
