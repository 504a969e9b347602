// The volunteer's training loop: join, link to peers, lease shards, step, exchange updates under the SSP clock.
import { concatFloats, decodeParams } from '../../model/codec.ts'
import { factorsAreSmaller, type MlrDims } from '../../model/mlr.ts'
import { asBytes } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'
import { validateUpdatePayload, type UpdateFrame } from '../../protocol/frames.ts'
import type { JobInfo } from '../../protocol/job.ts'
import type { ClockView, LeaseGrant, RelayedUpdate } from '../../protocol/messages.ts'
import { decodeShard } from '../../protocol/shard.ts'
import type { Engine } from '../gpu/engine.ts'
import type { CoordinatorLink } from '../transport/coordinator.ts'
import { PeerMesh, type MeshOptions } from '../transport/peer-mesh.ts'
import { PeerClocks } from './peer-clocks.ts'
import { initialStatus, RateMeter, type WorkerStatus } from './status.ts'

/** Ask the coordinator for updates a peer should have sent after waiting this long for them. */
export const RESEND_AFTER_MS = 1500
/** Sooner when a later update from that peer already arrived: the missing one was lost on the way. */
export const GAP_RESEND_AFTER_MS = 200
const IDLE_RETRY_MS = 500
/** Updates in flight to the coordinator before the loop waits for the oldest ack. */
const MAX_UNACKED = 8
const STATS_EVERY_MS = 2000
const SHARD_CACHE = 64

/** Makes the compute engine once the job's model dimensions are known. */
export interface Backend {
  kind: Engine['kind']
  create(dims: MlrDims): Engine
}

export interface WorkerDeps {
  backend: Backend
  link: CoordinatorLink
  Peer: MeshOptions['Peer']
  fetchShard(url: string): Promise<ArrayBuffer>
  jobId?: string
  /** false: no WebRTC; updates go through the coordinator (for networks that block data channels). */
  p2p?: boolean
  adapter?: string
  agent?: string
  onStatus?(s: WorkerStatus): void
}

/** An update from a data channel (p2p) or from the coordinator (relay, resend). */
type Incoming = RelayedUpdate & { via: 'p2p' | 'relay' }

/**
 * One volunteer worker. `run()` trains until the job is done or `leave()` is called.
 *
 * @example
 * const w = new Worker({ backend, link: new CoordinatorLink(io()), Peer: SimplePeer, fetchShard })
 * w.run().then(() => console.log('job done'))
 */
export class Worker {
  readonly status: WorkerStatus = initialStatus()
  private job!: JobInfo
  private engine!: Engine
  private me = ''
  private mesh!: PeerMesh
  private clocks: PeerClocks | null = null
  private view: ClockView = { min: 0, last: {} }
  private readonly early: Incoming[] = []
  private readonly departed: Array<[string, number]> = []
  /** Updates applied from data channels that the coordinator has not confirmed yet (its clock view lags). */
  private readonly unconfirmed = new Map<string, Array<{ clock: number; form: UpdateFrame['form']; rows: number; floats: Float32Array }>>()
  private readonly shards = new Map<number, { n: number; x: Float32Array; y: Uint8Array }>()
  private wake: () => void = () => {}
  private stopped = false
  /** run() has returned: links and peers are no longer this worker's business. */
  private finished = false
  /** Why the coordinator's socket dropped, if it did. */
  private lost: string | null = null
  private readonly rate = new RateMeter()
  private statsTimer: ReturnType<typeof setInterval> | undefined

  constructor(private readonly deps: WorkerDeps) {}

  async run(): Promise<void> {
    try {
      await this.join()
      await this.train()
      await this.catchUp()
      this.setPhase(this.stopped ? 'left' : 'done')
    } catch (err) {
      if (this.stopped) return this.setPhase('left')
      const e = this.lost ? new TabgridError('ERR_DISCONNECTED', `lost the coordinator (${this.lost})`) : err
      this.mesh?.destroy()
      this.status.error = e instanceof Error ? e.message : String(e)
      this.setPhase('error')
      throw e
    } finally {
      clearInterval(this.statsTimer)
      if (!this.stopped) void this.sendStats()
      // The page keeps showing the links as they were during the job. The links themselves stay up: our last
      // updates may still be in flight on them; each closes when its peer leaves the job.
      this.finished = true
    }
  }

  /** Stops after the current step, closes every link. */
  leave(): void {
    this.stopped = true
    this.wake()
    this.mesh?.destroy()
    this.deps.link.close()
  }

  async readModel() {
    return this.engine.readModel()
  }

  // ── joining ────────────────────────────────────────────────────────────────────────────────────

  private async join(): Promise<void> {
    const { link, backend } = this.deps
    this.setPhase('connecting')
    link.onDisconnect((why) => {
      this.lost = why
      this.wake()
    })
    link.on('signal', (m) => this.mesh?.signal(m.from, m.data))
    link.on('update', (u) => this.incoming({ ...u, via: 'relay' }))
    link.on('clock', (v) => {
      if (v.min >= this.view.min) this.view = v
      this.confirm(v.last)
      this.status.minClock = this.view.min
      this.notify()
    })
    link.on('peer-joined', ({ worker }) => {
      this.status.peers[worker] = 'connecting'
      this.mesh?.expect(worker)
      this.notify()
    })
    link.on('peer-left', ({ worker, last }) => {
      this.mesh?.drop(worker)
      if (this.finished) return
      delete this.status.peers[worker]
      this.revertAfter(worker, last)
      if (!this.clocks) this.departed.push([worker, last])
      else {
        this.clocks.left(worker, last)
        // Nothing more will come from it directly: fetch what is missing from the coordinator now.
        const have = this.clocks.contig(worker)
        if (have < last) void this.resend(worker, have)
      }
      this.notify()
    })
    link.on('job', ({ state }) => {
      this.job.state = state
      this.notify()
    })
    link.on('evicted', (r) => {
      this.status.error = `${r.code}: ${r.reason}`
      this.stopped = true
      this.notify()
    })
    const hello = await link.request('hello', {
      type: 'hello',
      engine: backend.kind,
      ...(this.deps.jobId ? { jobId: this.deps.jobId } : {}),
      ...(this.deps.adapter ? { adapter: this.deps.adapter.slice(0, 256) } : {}),
      ...(this.deps.agent ? { agent: this.deps.agent.slice(0, 256) } : {}),
    })
    this.job = hello.job
    this.me = hello.workerId
    this.status.workerId = this.me
    this.status.job = hello.job
    this.engine = backend.create(this.job.dims)
    this.mesh = new PeerMesh({
      Peer: this.deps.Peer,
      linkTimeoutMs: this.job.hyper.linkTimeoutMs,
      p2p: this.deps.p2p !== false,
      signal: (to, data) => void link.request('signal', { type: 'signal', to, data }).catch((e) => console.warn(e)),
      onLink: (peer, state) => {
        if (this.finished) return
        this.status.peers[peer] = state
        if (this.stopped || this.lost) return
        void link.request('link', { type: 'link', peer, state }).catch((e) => console.warn(e))
        this.notify()
      },
      onUpdate: (from, u) => this.incoming({ ...u, from, via: 'p2p' }),
      onBadFrame: (from, err) => {
        this.status.rejectedFrames++
        console.warn(`frame from ${from} dropped: ${err.message}`)
      },
    })
    this.setPhase('linking')
    for (const p of hello.peers) this.status.peers[p] = 'connecting'
    await Promise.all(hello.peers.map((p) => this.mesh.connect(p)))
    const snap = await link.request('ready', { type: 'ready' })
    this.engine.setModel(decodeParams(this.job.dims, asBytes(snap.model)))
    this.clocks = new PeerClocks(this.me, snap.vc)
    for (const [w, last] of this.departed) this.clocks.left(w, last)
    if (snap.view.min >= this.view.min) this.view = snap.view
    // The vector clock already counts the queued updates: they are applied here, not offered to the chain.
    for (const u of snap.pending) {
      this.apply(u.form, u.rows, validateUpdatePayload(u.form, u.rows, u.payload, this.job.dims.K, this.job.dims.J, this.job.hyper.batch))
      this.status.bytes.relayReceived += asBytes(u.payload).byteLength
    }
    for (const u of this.early.splice(0)) this.incoming(u)
    this.status.clock = snap.clock
    this.statsTimer = setInterval(() => void this.sendStats(), STATS_EVERY_MS)
  }

  // ── the loop ───────────────────────────────────────────────────────────────────────────────────

  private async train(): Promise<void> {
    while (!this.stopped) {
      if (this.lost) throw new TabgridError('ERR_DISCONNECTED', `lost the coordinator (${this.lost})`)
      if (this.job.state === 'pending' || this.job.state === 'paused') {
        this.setPhase('waiting')
        await this.changed(IDLE_RETRY_MS)
        continue
      }
      if (this.job.state !== 'running') return
      const r = await this.deps.link.request('lease', { type: 'lease' })
      if (r.done) return
      if (!r.lease) {
        this.setPhase('idle')
        await this.changed(IDLE_RETRY_MS)
        continue
      }
      await this.process(r.lease)
    }
  }

  private async process(lease: LeaseGrant): Promise<void> {
    const { engine } = this
    const { link } = this.deps
    const { dims, hyper } = this.job
    const shard = await this.shard(lease)
    engine.loadShard(shard.x, shard.y, shard.n)
    if (this.status.firstLoss === null) {
      // The model this tab starts from, measured on its first shard: a joiner's is the job's current model.
      const e = await engine.evaluate(shard.x, shard.y, shard.n)
      this.status.firstLoss = e.loss / shard.n
    }
    this.status.shard = lease.shard
    this.status.epoch = lease.epoch
    let clock = lease.clock
    let prev = this.status.lastUpdateClock
    const acks: Array<Promise<unknown>> = []
    for (let row0 = 0; row0 < shard.n; row0 += hyper.batch) {
      await this.gate(clock)
      if (this.stopped) return
      this.setPhase('training')
      const rows = Math.min(hyper.batch, shard.n - row0)
      const form = factorsAreSmaller(dims, rows) ? 'factors' : 'dense'
      const step = await engine.step(row0, rows, -hyper.lr / rows, form)
      const payload =
        form === 'factors'
          ? concatFloats(step.U, shard.x.subarray(row0 * dims.J, (row0 + rows) * dims.J))
          : concatFloats(step.dense!.W, step.dense!.b)
      const frame: UpdateFrame = { clock, prev, form, rows, payload }
      const p2pTo = this.mesh.broadcast(frame, this.fanout())
      // Not awaited: socket.io keeps order, so the next clock need not wait a round trip to the coordinator.
      // A rejection surfaces at the next clock (or before shard-done) and stops the loop.
      const ack = link.request('update', { type: 'update', clock, prev, form, rows, loss: step.loss, correct: step.correct, p2pTo, payload })
      ack.catch(() => undefined)
      acks.push(ack)
      if (acks.length > MAX_UNACKED) await acks.shift()
      this.status.lastLoss = step.loss / rows
      this.status.samples += rows
      this.rate.add(rows)
      this.status.lastUpdateClock = prev = clock
      this.status.clock = ++clock
      this.notify()
    }
    await Promise.all(acks)
    await link.request('shard-done', { type: 'shard-done', lease: lease.id })
  }

  /** Waits until the SSP bound and the read guarantee allow clock c; asks for resends of what is overdue. */
  private async gate(c: number): Promise<void> {
    const s = this.job.hyper.staleness
    let asked = performance.now()
    const started = asked
    for (;;) {
      if (this.stopped) return
      if (this.lost) throw new TabgridError('ERR_DISCONNECTED', `lost the coordinator (${this.lost})`)
      const slowestOk = this.view.min >= c - s
      const missing = slowestOk ? this.clocks!.missing(this.view, c, s) : []
      if (slowestOk && missing.length === 0) break
      this.setPhase(slowestOk ? 'waiting-updates' : 'waiting-slowest')
      const overdue = missing.some((m) => this.clocks!.hasGap(m.peer)) ? GAP_RESEND_AFTER_MS : RESEND_AFTER_MS
      if (missing.length && performance.now() - asked > overdue) {
        asked = performance.now()
        await Promise.all(missing.map((m) => this.resend(m.peer, m.after)))
      }
      await this.changed(overdue)
    }
    this.status.sspWaitMs += performance.now() - started
  }

  /** After the job ends, applies every update the coordinator holds, so this replica matches its replica. */
  private async catchUp(): Promise<void> {
    if (this.stopped || !this.clocks) return
    const deadline = performance.now() + 10_000
    let asked = performance.now()
    for (;;) {
      const behind = this.clocks.behind(this.view)
      if (!behind.length || performance.now() > deadline) return
      if (performance.now() - asked > RESEND_AFTER_MS) {
        asked = performance.now()
        await Promise.all(behind.map((m) => this.resend(m.peer, m.after)))
      }
      await this.changed(200)
    }
  }

  private async resend(peer: string, after: number): Promise<void> {
    this.status.resends++
    await this.deps.link.request('resend', { type: 'resend', from: peer, after }).catch((e: TabgridError) => console.warn(e.message))
  }

  /** Partial broadcast: at most `fanout` peers get the update directly; the coordinator relays it to the rest. */
  private fanout(): string[] | undefined {
    const q = this.job.hyper.fanout
    const open = this.mesh.openPeers()
    if (q === undefined || open.length <= q) return undefined
    for (let i = open.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[open[i], open[j]] = [open[j], open[i]]
    }
    return open.slice(0, q)
  }

  // ── incoming updates ───────────────────────────────────────────────────────────────────────────

  private incoming(u: Incoming): void {
    if (!this.clocks) {
      this.early.push(u)
      return
    }
    const { K, J } = this.job.dims
    let floats: Float32Array
    try {
      floats = validateUpdatePayload(u.form, u.rows, u.payload, K, J, this.job.hyper.batch)
    } catch (e) {
      this.status.rejectedFrames++
      console.warn(`update from ${u.from} dropped: ${(e as Error).message}`)
      return
    }
    if (!this.clocks.accept(u.from, u.clock, u.prev)) {
      this.status.duplicates++
      return
    }
    this.status.bytes[u.via === 'relay' ? 'relayReceived' : 'p2pReceived'] += floats.byteLength
    this.apply(u.form, u.rows, floats)
    if (u.via === 'p2p' && u.clock > (this.view.last[u.from] ?? -1)) {
      let list = this.unconfirmed.get(u.from)
      if (!list) this.unconfirmed.set(u.from, (list = []))
      list.push({ clock: u.clock, form: u.form, rows: u.rows, floats })
    }
    this.status.applied++
    this.notify()
  }

  private apply(form: UpdateFrame['form'], rows: number, floats: Float32Array): void {
    const { K, J } = this.job.dims
    if (form === 'factors') this.engine.applyFactors(floats.subarray(0, rows * K), floats.subarray(rows * K), rows)
    else this.engine.applyDense(floats.subarray(0, K * J), floats.subarray(K * J))
  }

  /** The coordinator holds these: they can no longer be taken back. */
  private confirm(last: Record<string, number>): void {
    for (const [peer, list] of this.unconfirmed) {
      const upTo = last[peer]
      if (upTo === undefined) continue
      const keep = list.filter((e) => e.clock > upTo)
      if (keep.length) this.unconfirmed.set(peer, keep)
      else this.unconfirmed.delete(peer)
    }
  }

  /**
   * A peer left after sending us updates that never reached the coordinator (its tab closed mid-send): undo them,
   * so this replica stays equal to the coordinator's, which is what every joiner starts from.
   */
  private revertAfter(peer: string, last: number): void {
    for (const e of this.unconfirmed.get(peer) ?? []) {
      if (e.clock <= last) continue
      // A factors update is undone by negating U alone (UᵀV is linear in U); a dense one by negating it all.
      const undo = e.floats.slice()
      const n = e.form === 'factors' ? e.rows * this.job.dims.K : undo.length
      for (let i = 0; i < n; i++) undo[i] = -undo[i]
      this.apply(e.form, e.rows, undo)
      this.status.reverted++
    }
    this.unconfirmed.delete(peer)
  }

  // ── plumbing ───────────────────────────────────────────────────────────────────────────────────

  private async shard(lease: LeaseGrant) {
    const cached = this.shards.get(lease.shard)
    if (cached) return cached
    const buf = await this.deps.fetchShard(lease.url)
    const s = decodeShard(buf, this.job.dims.J, this.job.dims.K)
    if (s.n !== lease.n) throw new TabgridError('ERR_BAD_SHAPE', `shard ${lease.shard} has ${s.n} rows, lease says ${lease.n}`)
    if (this.shards.size >= SHARD_CACHE) this.shards.delete(this.shards.keys().next().value!)
    this.shards.set(lease.shard, s)
    return s
  }

  private async sendStats(): Promise<void> {
    this.status.samplesPerSecond = this.rate.perSecond()
    this.status.bytes.p2pSent = this.mesh?.bytesSent ?? 0
    this.status.bytes.coordinatorSent = this.deps.link.sentBytes
    this.notify()
    if (!this.me || this.stopped) return
    await this.deps.link
      .request('stats', { type: 'stats', samplesPerSecond: this.status.samplesPerSecond, bytes: { ...this.status.bytes } })
      .catch(() => undefined)
  }

  /** Resolves on the next state change (an update applied, a clock view, a job event) or after `ms`. */
  private changed(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms)
      this.wake = () => {
        clearTimeout(t)
        resolve()
      }
    })
  }

  private notify(): void {
    const w = this.wake
    this.wake = () => {}
    w()
    this.deps.onStatus?.(this.status)
  }

  private setPhase(p: WorkerStatus['phase']): void {
    if (this.status.phase === p) return
    this.status.phase = p
    this.notify()
  }
}
