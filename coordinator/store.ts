// The coordinator's jobs: creation from a spec (dataset → model plan → shards) and lookup.
import { randomBytes } from 'node:crypto'
import { arenaBytes, arenaFromBytes, initParams } from '../model/params.ts'
import { planModel, type ModelPlan } from '../model/plan.ts'
import { ModelSpecError, parseModelSpec, presetSpec, type ModelSpec } from '../model/spec.ts'
import { CreateJobSchema, type CreateJob, type JobControl } from '../protocol/job.ts'
import { CreateLassoJobSchema, type CreateLassoJob } from '../protocol/lasso.ts'
import { MAX_UPDATE_BYTES } from '../protocol/limits.ts'
import { reject, type Rejection } from '../protocol/errors.ts'
import { JobCore, type JobOptions, type Outbox, type ResumeState } from './core/job.ts'
import { LassoJob } from './core/lasso-job.ts'
import { confineRegressionSpec, loadRegression } from './data/regression.ts'
import { StoreJournal } from './durable/journal.ts'
import { modelAt, resumeState } from './durable/replay.ts'
import type { DurableStore } from './durable/types.ts'
import type { Evaluator } from './core/evaluator.ts'
import { confineSpec, loadDataset, type DataRoots, type Dataset } from './data/index.ts'
import type { Split } from './data/types.ts'
import { EdgeCounts, type EdgeCounters } from './edge/counters.ts'

/** Makes a job's evaluator; the server passes a worker-thread pool, tests leave it to the job (in this thread). */
export type EvaluatorFactory = (plan: ModelPlan, test: Split) => Evaluator

export interface CreateOptions {
  /** Data paths must lead inside these (jobs created through the API); without them the path is read as given. */
  roots?: DataRoots
  /** A job kept in the durable store: made again under its id, from where it stopped. */
  resume?: { id: string }
  /** The model to start from instead of the initialisation (a rollback's), and the job's name. */
  initial?: Float32Array
}

/** Most floats a batch's activations may take on a worker (every layer's output, kept for backward). */
const MAX_BATCH_ACTIVATION_FLOATS = 64 * 1024 * 1024

/** A job of any app: data-parallel SGD (JobCore) or model-parallel Lasso (LassoJob), told apart by `app`. */
export type AnyJob = JobCore | LassoJob

export class JobStore {
  /** The SGD jobs. */
  readonly jobs = new Map<string, JobCore>()
  /** The Lasso jobs (in memory only: a restart does not bring them back). */
  readonly lasso = new Map<string, LassoJob>()
  /** Each job's creation spec, its data path resolved: what a rollback starts a new job from. */
  private readonly specs = new Map<string, CreateJob>()
  private readonly datasets = new Map<string, Promise<Dataset>>()
  /** Job ids in creation order, both apps. */
  private readonly order: string[] = []

  constructor(
    private readonly out: Outbox,
    private readonly evaluators?: EvaluatorFactory,
    /** Where every job reports evaluation failures and its defences' events (the server logs them). */
    private readonly hooks: Pick<JobOptions, 'onError' | 'onEvent'> = {},
    /** What the socket edge refused, per job (the server shares its Edge's counts). */
    private readonly edgeCounts: EdgeCounts = new EdgeCounts(),
    /** Largest update (bytes) a job's model may produce at its batch size; the socket's packet bound follows it. */
    private readonly maxUpdateBytes: number = MAX_UPDATE_BYTES,
    /** Where jobs, their accepted updates and snapshots are kept (durable/); none: jobs live in memory only. */
    readonly durable?: DurableStore,
  ) {}

  /**
   * Makes every job the durable store holds that had not ended again, from its last snapshot and log; a job that
   * cannot be made (its data gone, say) is marked failed. Returns what happened to each, for the log.
   */
  async resume(): Promise<Resumed[]> {
    const out: Resumed[] = []
    for (const j of this.durable?.jobs() ?? []) {
      if (j.state === 'done' || j.state === 'failed' || this.jobs.has(j.id)) continue
      try {
        const job = await this.create(j.spec as Partial<CreateJob>, { resume: { id: j.id } })
        // an operator's pause outlives a restart
        if (j.state === 'paused') job.control('pause')
        out.push({ id: j.id, ok: true, clock: job.ssp.min })
      } catch (e) {
        this.durable!.setState(j.id, 'failed')
        out.push({ id: j.id, ok: false, error: (e as Error).message })
      }
    }
    return out
  }

  /**
   * A new job with `job`'s spec that starts from its model at `clock`, rebuilt from the data directory. Throws a
   * ClockAheadError past the job's model, a RangeError before the oldest kept snapshot, and a NoHistoryError without a
   * data directory.
   */
  async rollback(job: JobCore, clock: number): Promise<JobCore> {
    const params = this.modelAt(job, clock)
    const spec = this.specs.get(job.id)!
    return this.create({ ...spec, name: `${job.info.name} from ${job.id} at clock ${clock}`.slice(0, 80) }, { initial: params })
  }

  /** `job`'s model at a past clock, from the data directory (errors as `rollback`'s). */
  modelAt(job: JobCore, clock: number): Float32Array {
    if (!this.durable) throw new NoHistoryError('this coordinator keeps no history (it runs without a data directory)')
    if (clock > job.replica.frontier) throw new ClockAheadError(`clock ${clock} is past the job's model (clock ${job.replica.frontier})`)
    return modelAt(job.plan, this.startOf(job.id, job.plan), this.durable, job.id, clock).params
  }

  /** A job's starting model: its frontier −1 snapshot when it started from another's model, else the initialisation. */
  private startOf(id: string, plan: ModelPlan): Float32Array {
    const start = this.durable?.latestSnapshot(id, -1)
    return start ? arenaFromBytes(plan, start.params) : initParams(plan)
  }

  /**
   * Creates a job from an (already validated or partial) spec; the dataset is loaded once per spec. Throws a
   * DatasetError or ModelSpecError (code ERR_BAD_MODEL) with a message for people. With `roots`, a data path outside
   * them is refused (DatasetError, the same message whether or not it exists) before anything is read.
   */
  async create(input: Partial<CreateJob>, opts: CreateOptions = {}): Promise<JobCore> {
    const spec = CreateJobSchema.parse(input)
    const confine = opts.roots?.confine
    const dataSpec = confine ? await confineSpec(spec.data, confine) : spec.data
    const key = `${dataSpec}|${spec.trainLimit ?? ''}|${confine ? 'confined' : ''}`
    let ds = this.datasets.get(key)
    if (!ds) {
      const loading = loadDataset(dataSpec, { trainLimit: spec.trainLimit, ...(confine ? { confine } : {}) })
      this.datasets.set(key, loading)
      loading.catch(() => this.datasets.delete(key))
      ds = loading
    }
    const data = await ds
    const model = resolveModel(spec.model, data.classes)
    const plan = planModel(model, data)
    checkFits(plan, spec.hyper.batch, this.maxUpdateBytes)
    const id = opts.resume?.id ?? `j-${randomBytes(4).toString('hex')}`
    let journal: StoreJournal | undefined
    let resume: ResumeState | undefined
    const initial = opts.resume ? this.startOf(id, plan) : (opts.initial ?? initParams(plan))
    if (this.durable) {
      journal = new StoreJournal(this.durable, id, { snapshotEvery: spec.hyper.snapshotEvery })
      if (opts.resume) resume = resumeState(plan, initial, this.durable, id)
      else {
        this.durable.saveJob({ id, spec: { ...spec, data: dataSpec }, state: 'pending', createdAt: Date.now() })
        if (opts.initial) this.durable.snapshot(id, { frontier: -1, params: arenaBytes(initial), meta: { samples: 0 }, at: Date.now() })
      }
    }
    this.specs.set(id, { ...spec, data: dataSpec })
    const size = Math.min(spec.hyper.shardSize, data.train.n)
    const job = new JobCore(
      {
        id,
        name: spec.name ?? `${plan.name} on ${data.name}`,
        model,
        dataset: {
          name: data.name,
          features: data.features,
          classes: data.classes,
          train: data.train.n,
          test: data.test.n,
          ...(data.imageShape ? { imageShape: data.imageShape } : {}),
        },
        hyper: spec.hyper,
        shards: { count: Math.ceil(data.train.n / size), size },
      },
      plan,
      data,
      this.out,
      { initial, ...(this.evaluators ? { evaluator: this.evaluators(plan, data.test) } : {}), ...this.hooks, ...(journal ? { journal } : {}), ...(resume ? { resume } : {}) },
    )
    if (journal) {
      journal.meta = () => ({ samples: job.samples })
      if (resume) journal.lastSnapshot = resume.clock - 1
    }
    this.jobs.set(id, job)
    this.order.push(id)
    return job
  }

  /**
   * A Lasso job from its spec: the regression set is loaded (a CSV path confined to `roots` when given) and
   * standardised. Throws a DatasetError with a message for people.
   */
  async createLasso(input: Partial<CreateLassoJob>, opts: Pick<CreateOptions, 'roots'> = {}): Promise<LassoJob> {
    const spec = CreateLassoJobSchema.parse({ ...input, app: 'lasso' })
    const confine = opts.roots?.confine
    const dataSpec = confine ? await confineRegressionSpec(spec.data, confine) : spec.data
    const data = await loadRegression(dataSpec, { ...(spec.target !== undefined ? { target: spec.target } : {}), ...(spec.trainLimit ? { trainLimit: spec.trainLimit } : {}), ...(confine ? { confine } : {}) })
    const id = `j-${randomBytes(4).toString('hex')}`
    const job = new LassoJob(
      { id, name: spec.name ?? `lasso on ${data.name}`, dataset: { name: data.name, n: data.n, p: data.p }, hyper: spec.hyper },
      data,
      this.out,
      this.hooks.onEvent ? { onEvent: this.hooks.onEvent } : {},
    )
    this.lasso.set(id, job)
    this.order.push(id)
    return job
  }

  get(id: string): JobCore | undefined {
    return this.jobs.get(id)
  }

  /** A job of either app. */
  any(id: string): AnyJob | undefined {
    return this.jobs.get(id) ?? this.lasso.get(id)
  }

  /** Every job, oldest first. */
  all(): AnyJob[] {
    return this.order.map((id) => this.any(id)!).filter((j) => j !== undefined)
  }

  /** The job a volunteer who names none joins: the newest one still taking work, of either app. */
  defaultJob(): AnyJob | undefined {
    const open = this.all().filter((j) => j.state === 'running' || j.state === 'pending')
    return open[open.length - 1]
  }

  tick(): void {
    for (const j of this.all()) j.tick()
  }

  /**
   * An operator's pause, resume or cancel of a job of either app: null when done (or nothing to do), a rejection
   * (ERR_UNKNOWN_JOB, or ERR_JOB_CLOSED for an ended job) otherwise.
   */
  control(id: string, action: JobControl): Rejection | null {
    const job = this.any(id)
    if (!job) return reject('ERR_UNKNOWN_JOB', `no job ${id}`)
    return job.control(action)
  }

  /** Every job's probation check (JobCore.watch): a few times a second. */
  watch(): void {
    for (const j of this.all()) j.watch()
  }

  /** What the socket edge refused or held back for a job: rate limits, address caps, deadlines, bans, back-offs. */
  edgeCounters(jobId: string): EdgeCounters {
    return this.edgeCounts.of(jobId)
  }

  /** The same, coordinator-wide (connections that never named a job included). */
  edgeTotals(): EdgeCounters {
    return this.edgeCounts.total()
  }
}

/** What became of a kept job at start: resumed at a clock, or failed with an error. */
export interface Resumed {
  id: string
  ok: boolean
  clock?: number
  error?: string
}

/** A job's history was asked of a coordinator that keeps none. */
export class NoHistoryError extends Error {}

/** A clock past the job's model was asked for. */
export class ClockAheadError extends RangeError {}

/** A preset name or a layer list (already a parsed JSON object) as a checked model description. */
export function resolveModel(model: CreateJob['model'], classes: number): ModelSpec {
  return typeof model === 'string' ? presetSpec(model, classes) : parseModelSpec(model)
}

/** Refuses a model whose worst-case update or batch activations are over the limits every side enforces. */
function checkFits(plan: ModelPlan, batch: number, maxUpdateBytes: number): void {
  let floats = 0
  for (const t of plan.tensors) floats += Math.max(t.size, t.factorable ? batch * (t.rows + t.cols) : 0)
  const bytes = floats * 4 + 4 * plan.tensors.length + 64
  if (bytes > maxUpdateBytes) {
    throw new ModelSpecError(`an update of this model at batch ${batch} can take ${(bytes / 2 ** 20).toFixed(1)} MiB, over the ${+(maxUpdateBytes / 2 ** 20).toFixed(2)} MiB limit: use a smaller model or batch`)
  }
  const acts = batch * plan.layers.reduce((s, l) => s + l.outSize, plan.inputSize)
  if (acts > MAX_BATCH_ACTIVATION_FLOATS) {
    throw new ModelSpecError(`a batch of ${batch} needs ${acts} activation values, over the limit of ${MAX_BATCH_ACTIVATION_FLOATS}: use a smaller batch`)
  }
}
