// A volunteer's work on one Lasso job (issue 9, STRADS): after hello it takes the residual, fetches the column blocks
// it is granted, answers each round's coordinate tasks and applies every round's residual change, handling all pushed
// events strictly in the order they came; one destroy(err) frees what it holds.
import { bytesOf, f32, u32 } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'
import type { JobState } from '../../protocol/job.ts'
import type { BlockGrant, LassoJobInfo, LassoServerEvents } from '../../protocol/lasso.ts'
import { MAX_LASSO_PICKS } from '../../protocol/limits.ts'
import type { CoordinatorLink } from '../transport/coordinator.ts'
import type { WorkerStatus } from '../train/status.ts'
import { restAfter } from '../train/throttle.ts'
import { GpuLassoStepper } from './gpu-stepper.ts'
import { HeldColumns } from './held.ts'
import { SerialQueue } from './queue.ts'
import { CpuLassoStepper, type LassoStepper } from './stepper.ts'

type Task = Parameters<LassoServerEvents['lasso-task']>[0]
type Round = Parameters<LassoServerEvents['lasso-round']>[0]

export interface LassoWorkerDeps {
  /** The link that said hello and was answered as a Lasso job's worker. */
  link: CoordinatorLink
  /** The job, as hello's answer gave it (its `state` is kept up to date). */
  job: LassoJobInfo
  /** A GPUDevice runs the WGSL kernel (the device stays the caller's); 'cpu' runs apps/lasso/step.ts. */
  engine: GPUDevice | 'cpu'
  /** GET of a block's URL (relative to the coordinator), as a session fetches its shards. */
  fetchBlock(url: string): Promise<ArrayBuffer>
  /** Where the worker shows itself: `app`, `job`, `phase`, `lasso` (and `error`) are written here. */
  status: WorkerStatus
  onStatus?(s: WorkerStatus): void
}

/**
 * One worker on one Lasso job, on a link that said hello already. The constructor registers its event handlers;
 * `run()` says `lasso-ready` and resolves once the job is done (or `destroy()` stopped it), or rejects with the error
 * that ended it (eviction, a refusal, a lost coordinator, a failed job). `destroy()` frees the GPU buffers; the link
 * stays the caller's to close.
 *
 * @example
 * const hello = await link.request('hello', { type: 'hello', engine: 'cpu' })
 * if (hello.app === 'lasso') {
 *   const w = new LassoWorker({ link, job: hello.job, engine: 'cpu', fetchBlock, status: initialStatus() })
 *   await w.run() // the job is done
 * }
 */
export class LassoWorker {
  readonly kind: 'webgpu' | 'cpu'
  private readonly job: LassoJobInfo
  private readonly status: WorkerStatus
  private readonly stepper: LassoStepper
  private readonly held: HeldColumns
  private readonly queue: SerialQueue
  private r: Float32Array
  /** The newest round whose residual change r holds (−1: none). */
  private view = -1
  /** The blocks the latest `lasso-blocks` listed. */
  private granted = new Set<number>()
  /** The version of the newest `lasso-blocks` taken in: a hold that crossed a newer one is not refused for it. */
  private version = 0
  /** Blocks being fetched (granted, not held yet). */
  private readonly fetching = new Set<number>()
  private ended = false
  private fatal: Error | null = null
  private settle: { resolve(): void; reject(err: Error): void } | null = null

  constructor(private readonly deps: LassoWorkerDeps) {
    const { link, job, engine, status } = deps
    this.job = job
    this.status = status
    this.held = new HeldColumns(job.dataset.n)
    this.r = new Float32Array(job.dataset.n)
    this.stepper = engine === 'cpu' ? new CpuLassoStepper() : new GpuLassoStepper(engine, job.dataset.n)
    this.kind = this.stepper.kind
    this.queue = new SerialQueue((err) => this.destroy(err))
    status.app = 'lasso'
    status.job = job
    status.lasso = { round: -1, view: -1, tasks: 0, updates: 0, blocks: [], columns: 0, lambda: job.lambda }
    // every pushed event through the one queue, in arrival order: a task sees the rounds and blocks before it
    link.on('lasso-blocks', (m) => this.queue.push(() => this.onBlocks(m.blocks, m.version)))
    link.on('lasso-task', (m) => this.queue.push(() => this.onTask(m)))
    link.on('lasso-round', (m) => this.queue.push(() => this.onRound(m)))
    link.on('job', (m) => this.queue.push(() => this.onJob(m.state, m.reason)))
    link.on('evicted', (r) => this.destroy(new TabgridError(r.code, r.reason)))
    link.on('rejected', (r) => this.destroy(new TabgridError(r.code, r.reason)))
    link.onDisconnect((why) => this.destroy(new TabgridError('ERR_DISCONNECTED', `lost the coordinator (${why})`)))
  }

  /** Says `lasso-ready`, takes the residual, then works until the job is done; call once. */
  async run(): Promise<void> {
    const finished = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }))
    if (this.ended) {
      if (this.fatal) throw this.fatal
      return
    }
    try {
      const ready = await this.deps.link.request('lasso-ready', { type: 'lasso-ready', engine: this.kind })
      if (!this.ended) {
        this.r = f32(ready.r, 'lasso-ready r', this.job.dataset.n).slice()
        this.stepper.setResidual(this.r)
        this.setView(ready.round)
        this.setPhase()
        if (this.job.state === 'done' || this.job.state === 'failed') this.queue.push(() => this.onJob(this.job.state, undefined))
        this.queue.open()
      }
    } catch (e) {
      this.destroy(e instanceof Error ? e : new Error(String(e)))
    }
    return finished
  }

  /**
   * The one teardown path: stops the queue and frees the stepper's GPU buffers; with an error (not after the job was
   * done) records it as the worker's error and `run()` rejects with it, else `run()` resolves. Safe to call again.
   */
  destroy(err?: Error): void {
    if (this.ended) return
    this.ended = true
    this.queue.stop()
    this.stepper.destroy()
    if (err) {
      this.fatal = err
      this.status.error = err.message
      this.status.phase = 'error'
      this.notify()
      this.settle?.reject(err)
    } else this.settle?.resolve()
  }

  /**
   * The volunteer's Pause (true) or Resume, in order with the events: paused, the coordinator gives its blocks to the
   * other tabs (it answers the tasks it was given before) and it keeps applying the rounds' residual changes.
   */
  setPaused(paused: boolean): void {
    this.queue.push(async () => {
      await this.deps.link.request('pause', { type: 'pause', paused })
      this.setPhase()
    })
  }

  // ── events, one at a time ──────────────────────────────────────────────────────────────────────

  /**
   * The blocks it holds now: the ones no longer listed are dropped at once (tasks before this event are answered);
   * new ones are fetched off the queue, so that tasks on the blocks held go on meanwhile, then taken in and held.
   */
  private async onBlocks(grants: BlockGrant[], version: number): Promise<void> {
    const { p } = this.job.dataset
    this.version = version
    for (const g of grants) {
      const whole = [g.block, g.first, g.cols].every((v) => Number.isInteger(v) && v >= 0)
      if (!whole || g.cols < 1 || g.first + g.cols > p) throw new TabgridError('ERR_BAD_SHAPE', `block ${g.block}: columns [${g.first}, ${g.first + g.cols}) of ${p}`)
    }
    this.granted = new Set(grants.map((g) => g.block))
    const drop = this.held.blocks.filter((b) => !this.granted.has(b))
    if (this.held.change([], drop)) await this.columnsChanged()
    const fresh = grants.filter((g) => !this.held.has(g.block) && !this.fetching.has(g.block))
    if (fresh.length === 0) return
    for (const g of fresh) this.fetching.add(g.block)
    void Promise.all(fresh.map((g) => this.fetchBlock(g))).then(
      (xs) => this.queue.push(() => this.hold(fresh, xs)),
      (e: unknown) => this.destroy(e instanceof Error ? e : new Error(String(e))),
    )
  }

  /** Fetched blocks, in the queue's order: those still granted are taken in, then said held (`lasso-hold`). */
  private async hold(fresh: BlockGrant[], xs: Float32Array[]): Promise<void> {
    for (const g of fresh) this.fetching.delete(g.block)
    const add = fresh.map((grant, i) => ({ grant, x: xs[i] })).filter((a) => this.granted.has(a.grant.block))
    if (!this.held.change(add, [])) return
    await this.columnsChanged()
    if (this.ended) return
    const blocks = add.map((a) => a.grant.block)
    this.deps.link.request('lasso-hold', { type: 'lasso-hold', blocks, version: this.version }).catch((e: Error) => this.destroy(e))
  }

  /** A task's Δβ from the residual as it is now (every round before the task applied), sent with that view. */
  private async onTask(m: Task): Promise<void> {
    const picks = u32(m.picks, `lasso-task ${m.round} picks`)
    if (picks.length > MAX_LASSO_PICKS) throw new TabgridError('ERR_TOO_LARGE', `lasso-task ${m.round}: ${picks.length} picks, at most ${MAX_LASSO_PICKS}`)
    if (new Set(picks).size !== picks.length) throw new TabgridError('ERR_BAD_MESSAGE', `lasso-task ${m.round}: a column picked twice`)
    const beta = f32(m.beta, `lasso-task ${m.round} beta`, picks.length)
    const local = this.held.local(picks)
    const view = this.view
    const started = performance.now()
    const deltas = await this.stepper.step(local, beta, this.job.lambda)
    if (this.ended) return
    // the throttle: rest so that the tab computes `duty` of the time (the coordinator waits on this task meanwhile)
    const rest = restAfter(performance.now() - started, this.status.duty)
    if (rest > 0) await new Promise((r) => setTimeout(r, rest))
    if (this.ended) return
    const s = this.status.lasso!
    s.tasks++
    s.updates += picks.length
    s.round = Math.max(s.round, m.round)
    this.notify()
    this.deps.link
      .request('lasso-result', { type: 'lasso-result', round: m.round, view, deltas: bytesOf(deltas) })
      .catch((e: Error) => this.destroy(e))
  }

  /** A round's residual change (r −= dr) or the residual itself; a round r holds already is skipped. */
  private onRound(m: Round): void {
    if (m.round <= this.view) return
    const { n } = this.job.dataset
    if (m.r) this.r.set(f32(m.r, `lasso-round ${m.round} r`, n))
    else if (m.dr) {
      const dr = f32(m.dr, `lasso-round ${m.round} dr`, n)
      for (let i = 0; i < n; i++) this.r[i] -= dr[i]
    } else throw new TabgridError('ERR_BAD_MESSAGE', `lasso-round ${m.round}: neither dr nor r`)
    this.stepper.setResidual(this.r)
    this.setView(m.round)
    this.notify()
  }

  /** The job's state: done or failed (an operator's cancel) ends the work without an error; `reason` says why. */
  private onJob(state: JobState, reason: string | undefined): void {
    this.job.state = state
    if (reason) this.status.jobReason = reason
    if (state !== 'done' && state !== 'failed') {
      this.setPhase()
      return
    }
    this.status.phase = 'done'
    this.notify()
    this.destroy()
  }

  // ── helpers ────────────────────────────────────────────────────────────────────────────────────

  private async fetchBlock(g: BlockGrant): Promise<Float32Array> {
    const buf = await this.deps.fetchBlock(g.url)
    const floats = g.cols * this.job.dataset.n
    if (buf.byteLength !== 4 * floats) throw new TabgridError('ERR_BAD_SHAPE', `block ${g.block}: ${buf.byteLength} bytes, expected ${4 * floats} (${g.cols} columns of ${this.job.dataset.n})`)
    return new Float32Array(buf)
  }

  private async columnsChanged(): Promise<void> {
    await this.stepper.setColumns(this.held)
    const s = this.status.lasso!
    s.blocks = this.held.blocks
    s.columns = this.held.cols
    this.notify()
  }

  private setView(round: number): void {
    this.view = round
    const s = this.status.lasso!
    s.view = round
    s.round = Math.max(s.round, round)
  }

  private setPhase(): void {
    const state = this.job.state
    const phase = this.status.paused ? 'paused' : state === 'pending' || state === 'paused' ? 'waiting' : 'training'
    if (this.status.phase === phase) return
    this.status.phase = phase
    this.notify()
  }

  private notify(): void {
    this.deps.onStatus?.(this.status)
  }
}
