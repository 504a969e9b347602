// A volunteer worker's session on one job: join, link to peers, train, and one destroy(err) that frees everything
// it holds (GPU engine, data channels, timers, the coordinator link) whatever ended the work. A Lasso job's session
// hands the work to a LassoWorker (client/lasso/worker.ts) after hello.
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { arenaFromBytes } from '../../model/params.ts'
import type { Path } from '../../model/update.ts'
import { asBytes } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'
import { endedUnder, maxRowsOf, type CommView, type JobInfo } from '../../protocol/job.ts'
import type { LassoJobInfo } from '../../protocol/lasso.ts'
import type { ClockTime, ClockView } from '../../protocol/messages.ts'
import type { Engine } from '../gpu/engine.ts'
import { LassoWorker } from '../lasso/worker.ts'
import type { CoordinatorLink } from '../transport/coordinator.ts'
import { sha256Hex } from '../transport/digest.ts'
import { PeerMesh, type MeshOptions } from '../transport/peer-mesh.ts'
import { Inbox } from './inbox.ts'
import { Loop, type LoopHost } from './loop.ts'
import { initialStatus, RateMeter, type WorkerStatus } from './status.ts'
import { clampDuty } from './throttle.ts'

/** How often a tab reports its clocks' time (`stats`): the coordinator's Pace sizes the job's clock from these. */
export const STATS_EVERY_MS = 2000

/** Makes the compute engine once the job's model is known. */
export interface Backend {
  /** The engine, or the first guess where `create` times both (hello says it; ready says the one made). */
  kind: Engine['kind']
  create(plan: ModelPlan, batch: number): Engine | Promise<Engine>
  /** The device of a WebGPU backend: a Lasso job's coordinate steps run on it (without it, on the CPU). */
  device?: GPUDevice
}

export interface SessionDeps {
  backend: Backend
  link: CoordinatorLink
  Peer: MeshOptions['Peer']
  /** GET of a shard's (or a Lasso column block's) URL, relative to the coordinator. */
  fetchShard(url: string): Promise<ArrayBuffer>
  jobId?: string
  /** false: no WebRTC; updates go through the coordinator (for networks that block data channels). */
  p2p?: boolean
  adapter?: string
  agent?: string
  onStatus?(s: WorkerStatus): void
}

/**
 * One volunteer worker on one job. `run()` trains until the job is done, `leave()` is called or a fatal error
 * (`destroy(err)`) ends it; either way everything the session holds is released once. On a Lasso job (hello's
 * answer says `app: 'lasso'`) no engine, plan, mesh or inbox is made: `lasso` does the work, under the same contract.
 *
 * @example
 * const s = new Session({ backend, link: new CoordinatorLink(io()), Peer: SimplePeer, fetchShard })
 * s.run().then(() => console.log('job done'))
 */
export class Session implements LoopHost {
  readonly status: WorkerStatus = initialStatus()
  readonly rate = new RateMeter()
  job!: JobInfo
  plan!: ModelPlan
  engine!: Engine
  mesh!: PeerMesh
  inbox!: Inbox
  /** The worker of a Lasso job; null for SGD. */
  lasso: LassoWorker | null = null
  private me = ''
  private clockView: ClockView = { min: 0, last: {} }
  private comm: CommView | null = null
  private wake: () => void = () => {}
  private left = false
  /** The coordinator said this worker went on probation; the loop's next update waits for its answer. */
  private probation = false
  /** The error that ended the session, if one did. */
  private fatal: Error | null = null
  private destroyed = false
  private finalModel: Float32Array | null = null
  private statsTimer: ReturnType<typeof setInterval> | undefined
  private loop!: Loop

  constructor(private readonly deps: SessionDeps) {}

  get link(): CoordinatorLink {
    return this.deps.link
  }

  async run(): Promise<void> {
    try {
      await this.join()
      if (this.lasso) {
        await this.lasso.run()
        this.running() // throws the error that ended it, if one did
      } else {
        await this.loop.train()
        await this.loop.catchUp()
        if (this.running()) {
          // the model this tab ends with stays readable after the engine's GPU memory is freed
          this.finalModel = await this.engine.readModel()
          this.setPhase('done')
        }
      }
    } catch (err) {
      if (this.left) return
      this.destroy(err instanceof Error ? err : new Error(String(err)))
      throw this.fatal
    } finally {
      if (!this.left && !this.fatal && !this.lasso) await this.sendStats()
      // our last updates may still be on their way to peers: let the data channels drain before closing them
      await this.mesh?.flush()
      this.destroy()
    }
  }

  /**
   * The volunteer's Pause: the tab finishes the step it is on, hands its work back (an SGD shard goes back to the
   * pool, Lasso blocks to the other tabs) and stops counting toward the job's min clock, so it holds nobody back; it
   * keeps its links and its replica current, so `resume()` goes on at once. Phase `paused` while it is.
   */
  pause(): void {
    this.setPaused(true)
  }

  /** Ends a pause: the tab takes work again (SGD: a shard, at the job's min clock). */
  resume(): void {
    this.setPaused(false)
  }

  /**
   * The throttle: the fraction of the time the tab computes (e.g. 0.25, 0.5, 1), from the next step on. It rests
   * after each step; its rows and the job's clock length follow, as for a slower device.
   */
  setDuty(duty: number): void {
    this.status.duty = clampDuty(duty)
    this.notify()
  }

  private setPaused(paused: boolean): void {
    if (this.status.paused === paused) return
    this.status.paused = paused
    this.lasso?.setPaused(paused)
    this.notify()
  }

  /** Stops after the current step and closes everything. */
  leave(): void {
    this.left = true
    this.setPhase('left')
    this.destroy()
  }

  /**
   * The model this tab holds: the engine's while it works, the copy taken at the end once the job is done. A Lasso
   * worker holds none (β is the coordinator's): a TabgridError says so.
   */
  async readModel(): Promise<Float32Array> {
    if (this.status.app === 'lasso') {
      throw new TabgridError('ERR_BAD_MESSAGE', 'a Lasso worker holds no model: β is kept by the coordinator; download it from the coordinator')
    }
    if (this.finalModel) return this.finalModel.slice()
    if (this.destroyed) throw new TabgridError('ERR_JOB_CLOSED', 'this session ended before the job was done; its model is gone')
    return this.engine.readModel()
  }

  /**
   * The one teardown path: records the error (if any) as the tab's error, wakes the loop so it stops, and frees the
   * engine's GPU memory (or the Lasso worker's), the data channels, the stats timer and the coordinator link. Safe to
   * call more than once.
   */
  destroy(err?: Error): void {
    if (err && !this.fatal && !this.left) {
      this.fatal = err
      this.status.error = err.message
      this.setPhase('error')
    }
    if (this.destroyed) return
    this.destroyed = true
    clearInterval(this.statsTimer)
    this.mesh?.destroy()
    this.engine?.destroy()
    this.lasso?.destroy(this.left ? undefined : this.fatal ?? undefined)
    this.deps.link.close()
    this.notify()
  }

  // ── LoopHost ───────────────────────────────────────────────────────────────────────────────────

  view(): ClockView {
    return this.clockView
  }

  paths(): Path[] {
    return this.comm!.paths
  }

  takeProbation(): boolean {
    const p = this.probation
    this.probation = false
    return p
  }

  running(): boolean {
    if (this.fatal) throw this.fatal
    return !this.left
  }

  changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }

  notify(): void {
    const w = this.wake
    this.wake = () => {}
    w()
    this.deps.onStatus?.(this.status)
  }

  setPhase(p: WorkerStatus['phase']): void {
    if (this.status.phase === p) return
    this.status.phase = p
    this.notify()
  }

  fetchShard(url: string): Promise<ArrayBuffer> {
    return this.deps.fetchShard(url)
  }

  // ── joining ────────────────────────────────────────────────────────────────────────────────────

  /**
   * Wraps an event handler: events that arrive before the hello reply is processed (socket.io may run them first)
   * wait until the model and inbox exist; an error in a handler ends the session instead of escaping into socket.io.
   * On a Lasso job the SGD handlers do nothing (`anyApp`: the handler runs for both apps).
   */
  private guard<A extends unknown[]>(fn: (...a: A) => void, anyApp = false): (...a: A) => void {
    const skip = () => !anyApp && this.status.app === 'lasso'
    return (...a) => {
      if (this.destroyed) return
      if (this.deferred) {
        this.deferred.push(() => void (skip() || fn(...a)))
        return
      }
      if (skip()) return
      try {
        fn(...a)
      } catch (e) {
        this.destroy(e instanceof Error ? e : new Error(String(e)))
      }
    }
  }

  /** Handlers held back until the inbox exists; null afterwards. */
  private deferred: Array<() => void> | null = []

  private async join(): Promise<void> {
    const { link, backend } = this.deps
    this.setPhase('connecting')
    link.onDisconnect((why) => this.destroy(new TabgridError('ERR_DISCONNECTED', `lost the coordinator (${why})`)))
    link.on('signal', this.guard((m) => this.mesh?.signal(m.from, m.data)))
    link.on('update', this.guard((u) => this.inbox.frame({ ...u, via: 'relay' })))
    link.on('confirm', this.guard((c) => this.inbox.confirm(c)))
    link.on(
      'aggregate',
      this.guard((a) => {
        this.inbox.aggregate(a)
        if (a.view) this.onClock(a.view)
      }),
    )
    link.on('correction', this.guard((c) => this.inbox.correction(c)))
    // it held the min clock too long: its next update waits for the clock it counts at
    link.on('probation', () => (this.probation = true))
    link.on('clock', this.guard((v) => this.onClock(v)))
    link.on('paths', this.guard((p: CommView) => this.setPaths(p)))
    link.on(
      'peer-joined',
      this.guard(({ worker }) => {
        this.status.peers[worker] = 'connecting'
        this.mesh?.expect(worker)
        this.notify()
      }),
    )
    link.on(
      'peer-left',
      this.guard(({ worker, last }) => {
        this.mesh?.drop(worker)
        delete this.clockView.last[worker] // its final clock is the inbox's to keep now
        if (this.job.state !== 'done') delete this.status.peers[worker]
        const have = this.inbox.left(worker, last)
        // Nothing more will come from it directly: fetch what is missing from the coordinator now.
        if (have !== undefined && have < last) void this.loop.resend(worker, have)
        this.notify()
      }),
    )
    link.on(
      'job',
      this.guard(({ state, reason }) => {
        if (reason) this.status.jobReason = reason
        else delete this.status.jobReason
        if (this.lasso) return // it has its own handler, in order with its other events
        // the job of either app until a LassoWorker exists (the SGD job is this.job)
        this.status.job!.state = state
        this.notify()
      }, true),
    )
    link.on('evicted', (r) => this.destroy(new TabgridError(r.code, r.reason)))
    // the refusal of an update sent without an ack (Loop): the same as a refused ack, the work stops
    link.on('rejected', (r) => {
      // an update that was on its way when the job ended (an operator's cancel): the work is over, not wrong
      if (this.status.job && endedUnder(r.code, this.status.job.state)) return
      this.destroy(new TabgridError(r.code, r.reason))
    })
    const hello = await link.request('hello', {
      type: 'hello',
      engine: backend.kind,
      ...(this.deps.jobId ? { jobId: this.deps.jobId } : {}),
      ...(this.deps.adapter ? { adapter: this.deps.adapter.slice(0, 256) } : {}),
      ...(this.deps.agent ? { agent: this.deps.agent.slice(0, 256) } : {}),
    })
    if (hello.app === 'lasso') {
      this.joinLasso(hello.workerId, hello.job)
      return
    }
    this.job = hello.job
    this.me = hello.workerId
    this.plan = planModel(this.job.model, this.job.dataset)
    this.status.workerId = this.me
    this.status.job = hello.job
    this.setPaths(hello.paths)
    this.engine = timedApply(await backend.create(this.plan, this.job.hyper.batch), this.status.time)
    if (this.destroyed) {
      // left (or lost the coordinator) while the engines were being timed: the one made is freed here
      this.engine.destroy()
      throw this.fatal ?? new TabgridError('ERR_JOB_CLOSED', 'the session ended while its engine was being made')
    }
    this.inbox = new Inbox(this.plan, maxRowsOf(this.job.hyper), this.me, this.engine, this.status, () => this.notify(), {
      report: (from, clock, kind) => void link.request('report', { type: 'report', from, clock, kind }).catch((e: Error) => console.warn(e.message)),
      digest: sha256Hex,
    })
    this.loop = new Loop(this)
    for (const f of this.deferred!.splice(0)) f()
    this.deferred = null
    this.mesh = new PeerMesh({
      Peer: this.deps.Peer,
      linkTimeoutMs: this.job.hyper.linkTimeoutMs,
      p2p: this.deps.p2p !== false,
      signal: (to, data) => void link.request('signal', { type: 'signal', to, data }).catch((e) => console.warn(e)),
      onLink: (peer, state) => {
        // after the job, links close as peers go home: the page keeps showing them as they were
        if (this.destroyed || this.job.state === 'done') return
        this.status.peers[peer] = state
        void link.request('link', { type: 'link', peer, state }).catch((e) => console.warn(e))
        this.notify()
      },
      onFrame: this.guard((from: string, frame: Uint8Array) => this.inbox.frame({ from, frame, via: 'p2p' })),
      onBadFrame: (from, err) => {
        this.status.rejectedFrames++
        console.warn(`frame from ${from} dropped: ${err.message}`)
      },
    })
    this.setPhase('linking')
    for (const p of hello.peers) this.status.peers[p] = 'connecting'
    await Promise.all(hello.peers.map((p) => this.mesh.connect(p)))
    const snap = await link.request('ready', { type: 'ready', engine: this.engine.kind })
    this.engine.setModel(arenaFromBytes(this.plan, asBytes(snap.model)))
    this.mergeView(snap.view)
    this.inbox.start(snap)
    this.status.clock = snap.clock
    this.statsTimer = setInterval(() => void this.sendStats(), STATS_EVERY_MS)
  }

  /** After a Lasso job's hello: the events held back are run (the SGD ones do nothing), then a LassoWorker takes over. */
  private joinLasso(workerId: string, job: LassoJobInfo): void {
    const { backend, link } = this.deps
    this.me = workerId
    this.status.workerId = workerId
    this.status.app = 'lasso'
    this.status.job = job
    for (const f of this.deferred!.splice(0)) f()
    this.deferred = null
    // left (or lost the coordinator) as hello was answered: no GPU buffers are made
    if (this.destroyed) throw this.fatal ?? new TabgridError('ERR_JOB_CLOSED', 'the session ended as it joined')
    const engine = backend.kind === 'webgpu' && backend.device ? backend.device : 'cpu'
    this.lasso = new LassoWorker({ link, job, engine, fetchBlock: (url) => this.deps.fetchShard(url), status: this.status, onStatus: () => this.notify() })
    if (this.status.paused) this.lasso.setPaused(true)
  }

  /** The min moved (a `clock` event, or the view an aggregate carries). */
  private onClock(v: ClockView): void {
    this.mergeView(v)
    this.inbox.clock(v.min)
    this.status.minClock = this.clockView.min
    this.notify()
  }

  /**
   * A clock view names only the chains that moved since the one before (the view at ready names all): merged in
   * place, so a view costs its size, not the number of workers.
   */
  private mergeView(v: ClockView): void {
    const last = this.clockView.last
    for (const [p, c] of Object.entries(v.last)) if (!(last[p] >= c)) last[p] = c
    if (v.pace && v.min >= this.clockView.min) this.clockView.pace = v.pace
    this.clockView.min = Math.max(this.clockView.min, v.min)
  }

  private setPaths(p: CommView): void {
    if (this.comm && p.version <= this.comm.version) return
    this.comm = p
    this.status.paths = Object.fromEntries(p.paths.map((path, i) => [this.plan?.tensors[i]?.name ?? String(i), path]))
    this.notify()
  }

  private async sendStats(): Promise<void> {
    this.status.samplesPerSecond = this.rate.perSecond()
    this.status.bytes.p2pSent = this.mesh?.bytesSent ?? 0
    this.status.bytes.coordinatorSent = this.deps.link.sentBytes
    this.notify()
    if (!this.me || this.destroyed) return
    await this.deps.link
      .request('stats', { type: 'stats', samplesPerSecond: this.status.samplesPerSecond, bytes: { ...this.status.bytes }, time: { ...this.status.time }, duty: this.status.duty })
      .catch(() => undefined)
  }
}

/** The engine, with the time its `apply` calls take (peers' updates, server aggregates, undos) added to `time`. */
function timedApply(engine: Engine, time: ClockTime): Engine {
  const apply = engine.apply.bind(engine)
  engine.apply = (parts, rows) => {
    const t = performance.now()
    apply(parts, rows)
    time.applyMs += performance.now() - t
  }
  return engine
}
