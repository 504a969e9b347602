// What a worker shows about itself: phase, clocks, throughput, peers and bytes (or a Lasso job's rounds and blocks);
// and a samples/s meter.
import type { JobInfo } from '../../protocol/job.ts'
import type { LassoJobInfo } from '../../protocol/lasso.ts'
import type { ClockTime, LinkState, WorkerBytes } from '../../protocol/messages.ts'

/** A Lasso worker's progress (client/lasso/worker.ts). */
export interface LassoStatus {
  /** The newest round this worker knows of: of a task it answered, or of a residual change it applied. */
  round: number
  /** The newest round whose residual change it applied (the view its results state); −1: none. */
  view: number
  /** Tasks answered. */
  tasks: number
  /** Coordinate updates computed (picks over all tasks). */
  updates: number
  /** The column blocks it holds, in column order. */
  blocks: number[]
  /** Columns of X it holds. */
  columns: number
  lambda: number
}

export interface WorkerStatus {
  /**
   * `waiting`: the job has not started, or its operator paused it (`jobReason` says so); `paused`: the volunteer
   * paused this tab; `done`: the job ended (its state says how: done, or failed with `jobReason`).
   */
  phase: 'starting' | 'connecting' | 'linking' | 'waiting' | 'training' | 'waiting-slowest' | 'waiting-updates' | 'idle' | 'paused' | 'done' | 'left' | 'error'
  workerId: string
  /** The job's app, known from hello's answer ('sgd' until then). */
  app: 'sgd' | 'lasso'
  job: JobInfo | LassoJobInfo | null
  /** A Lasso job's progress; null for SGD. */
  lasso: LassoStatus | null
  clock: number
  lastUpdateClock: number
  minClock: number
  epoch: number
  shard: number
  samples: number
  samplesPerSecond: number
  /** Mean loss of the model this tab started from, on its first shard. */
  firstLoss: number | null
  lastLoss: number | null
  peers: Record<string, 'connecting' | LinkState>
  bytes: WorkerBytes
  /** The path of each tensor this tab sends on now (Poseidon's rule, decided by the coordinator). */
  paths: Record<string, 'sf' | 'ps'>
  /** The learning rate of the current shard. */
  lr: number
  applied: number
  /** Server aggregates applied. */
  aggregates: number
  duplicates: number
  rejectedFrames: number
  resends: number
  /** Confirmed updates that never came on the data channel: asked of the coordinator. */
  missingDirect: number
  /** Updates whose data-channel copy differed from what the coordinator accepted: dropped, the real one fetched. */
  mismatches: number
  /** Quarantined peers' contributions this worker took back. */
  corrections: number
  /** Update parts this tab clipped to the job's norm bounds (gradient clipping). */
  clipped: number
  /** Where this tab's clocks went (ms summed over `time.clocks`): reported with its stats. */
  time: ClockTime
  /** The volunteer paused this tab (Session.pause): it finishes its step, hands its work back and waits. */
  paused: boolean
  /** The throttle: the fraction of the time this tab computes (Session.setDuty); 1 = flat out. */
  duty: number
  /** Why the job is paused or failed, as the coordinator said (`paused by the operator`, `cancelled by the operator`). */
  jobReason?: string
  error?: string
}

export function initialStatus(): WorkerStatus {
  return {
    phase: 'starting',
    workerId: '',
    app: 'sgd',
    job: null,
    lasso: null,
    clock: 0,
    lastUpdateClock: -1,
    minClock: 0,
    epoch: 0,
    shard: -1,
    samples: 0,
    samplesPerSecond: 0,
    firstLoss: null,
    lastLoss: null,
    peers: {},
    bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 },
    paths: {},
    lr: 0,
    applied: 0,
    aggregates: 0,
    duplicates: 0,
    rejectedFrames: 0,
    resends: 0,
    missingDirect: 0,
    mismatches: 0,
    corrections: 0,
    clipped: 0,
    time: { clocks: 0, rows: 0, engineMs: 0, sendMs: 0, applyMs: 0, waitMs: 0, otherMs: 0 },
    paused: false,
    duty: 1,
  }
}

function isLasso(job: JobInfo | LassoJobInfo): job is LassoJobInfo {
  return 'app' in job && job.app === 'lasso'
}

/** The job, where it is a Lasso one. */
export function lassoJob(s: WorkerStatus): LassoJobInfo | null {
  return s.job && isLasso(s.job) ? s.job : null
}

/** The job, where it is an SGD one. */
export function sgdJob(s: WorkerStatus): JobInfo | null {
  return s.job && !isLasso(s.job) ? s.job : null
}

/** Samples per second over a sliding window. */
export class RateMeter {
  private readonly events: Array<[number, number]> = []

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  add(n: number): void {
    this.events.push([this.now(), n])
    this.prune()
  }

  perSecond(): number {
    this.prune()
    if (this.events.length < 2) return 0
    const span = (this.now() - this.events[0][0]) / 1000
    const total = this.events.reduce((s, [, n]) => s + n, 0)
    return span > 0 ? total / span : 0
  }

  private prune(): void {
    const cut = this.now() - this.windowMs
    while (this.events.length && this.events[0][0] < cut) this.events.shift()
  }
}
