// One training job's whole state machine: members, SSP clock, shard ledger, replica, relay. No sockets here.
import { evaluate, type MlrParams } from '../../model/mlr.ts'
import { asBytes } from '../../protocol/bytes.ts'
import { reject, type Rejection } from '../../protocol/errors.ts'
import { validateUpdatePayload } from '../../protocol/frames.ts'
import type { JobInfo, JobState, JobSummary } from '../../protocol/job.ts'
import { MAX_WORKERS_PER_JOB } from '../../protocol/limits.ts'
import type { LeaseGrant, Msg, Replies, ServerEvents } from '../../protocol/messages.ts'
import { encodeShard } from '../../protocol/shard.ts'
import type { Dataset } from '../data/index.ts'
import { ShardLedger, type Lease } from './ledger.ts'
import { Replica } from './replica.ts'
import { encodeParams } from '../../model/codec.ts'
import { SspTable } from './ssp.ts'
import { LOG_MARGIN_CLOCKS, UpdateLog } from './update-log.ts'

/** Where a job's outbound events go; the socket layer implements it, tests fake it. */
export interface Outbox {
  send<E extends keyof ServerEvents>(to: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void
  /** Disconnects a worker that broke the rules or stalled. */
  evict(worker: string, why: Rejection): void
}

export interface Member {
  id: string
  engine: 'webgpu' | 'cpu'
  adapter: string
  agent: string
  joinedAt: number
  ready: boolean
  lastProgress: number
  links: Record<string, 'p2p' | 'relay'>
  samples: number
  samplesPerSecond: number
  lastLoss: number | null
  firstLoss: number | null
  bytes: { p2pSent: number; p2pReceived: number; relayReceived: number; coordinatorSent: number }
}

export interface CurvePoint {
  t: number
  clock: number
  testAccuracy: number
  testLoss: number
}

export interface Bytes {
  /** Update bytes senders put on peer-to-peer data channels (payload × peers reached). */
  p2p: number
  /** Update bytes the coordinator forwarded between workers lacking a P2P link (and resends). */
  relay: number
  /** Bytes between workers and the coordinator: update uploads, snapshots, catch-up. */
  coordinator: number
}

const EVAL_INTERVAL_MS = 500

export type Reply<T extends keyof Replies> = Replies[T] | Rejection

export class JobCore {
  readonly ledger: ShardLedger
  readonly ssp: SspTable
  readonly replica: Replica
  readonly log = new UpdateLog()
  readonly members = new Map<string, Member>()
  readonly curve: CurvePoint[] = []
  readonly bytes: Bytes = { p2p: 0, relay: 0, coordinator: 0 }
  readonly clocksByWorker = new Map<string, number>()
  /** Workers that were members and left: late references to them are harmless. */
  readonly departed = new Set<string>()
  /** Leases taken back from workers that left or stalled: their shards went back to the pool. */
  readonly returned: Array<{ worker: string; shard: number; epoch: number }> = []
  /** Every worker that ever joined, with the engine it ran: the job's history, kept after they leave. */
  readonly enginesByWorker = new Map<string, 'webgpu' | 'cpu'>()
  state: JobState = 'pending'
  startedAt: number | null = null
  finishedAt: number | null = null
  samples = 0
  private lastEval = 0

  constructor(
    readonly info: Omit<JobInfo, 'state'>,
    readonly data: Dataset,
    private readonly out: Outbox,
    private readonly now: () => number = Date.now,
    initial?: MlrParams,
  ) {
    this.ssp = new SspTable(info.hyper.staleness)
    this.ledger = new ShardLedger(info.shards.count, info.hyper.epochs)
    this.replica = new Replica(info.dims, initial)
    this.evaluate(true)
  }

  get id(): string {
    return this.info.id
  }

  jobInfo(): JobInfo {
    return { ...this.info, state: this.state }
  }

  // ── worker messages ────────────────────────────────────────────────────────────────────────────

  hello(worker: string, m: Msg<'hello'>): Reply<'hello'> {
    if (this.members.size >= MAX_WORKERS_PER_JOB) return reject('ERR_JOB_CLOSED', `the job has its ${MAX_WORKERS_PER_JOB} workers`)
    const peers = [...this.members.keys()]
    this.members.set(worker, {
      id: worker,
      engine: m.engine,
      adapter: m.adapter ?? '',
      agent: m.agent ?? '',
      joinedAt: this.now(),
      ready: false,
      lastProgress: this.now(),
      links: {},
      samples: 0,
      samplesPerSecond: 0,
      lastLoss: null,
      firstLoss: null,
      bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, coordinatorSent: 0 },
    })
    this.enginesByWorker.set(worker, m.engine)
    for (const p of peers) this.out.send(p, 'peer-joined', { worker })
    return { ok: true, workerId: worker, job: this.jobInfo(), peers }
  }

  signal(worker: string, m: Msg<'signal'>): Reply<'signal'> {
    if (m.to === worker || !this.members.has(m.to)) return reject('ERR_NOT_IN_JOB', `worker ${m.to} is not in this job`)
    this.out.send(m.to, 'signal', { from: worker, data: m.data })
    return { ok: true }
  }

  /** The worker's links are up (or timed out): it becomes a live member and gets the model as of now. */
  ready(worker: string): Reply<'ready'> {
    const me = this.members.get(worker)!
    me.ready = true
    me.lastProgress = this.now()
    const clock = this.ssp.join(worker)
    const snap = this.replica.snapshot()
    this.bytes.coordinator += snap.model.byteLength + snap.pending.reduce((s, u) => s + u.payload.byteLength, 0)
    if (this.state === 'pending' && this.readyCount() >= this.info.hyper.minWorkers) this.setState('running')
    return { ok: true, clock, ...snap, view: this.ssp.view() }
  }

  lease(worker: string): Reply<'lease'> {
    if (this.state === 'done' || this.state === 'failed') return { ok: true, lease: null, done: true }
    if (this.state !== 'running') return { ok: true, lease: null, done: false }
    // Asking again while holding a shard (a retried request) gets the same lease back.
    const held = this.ledger.leasesOf(worker)[0]
    if (held) return { ok: true, lease: this.grant(held, this.ssp.clockOf(worker) ?? 0), done: false }
    const l = this.ledger.lease(worker, this.now())
    if (!l) {
      if (this.ssp.deactivate(worker)) this.minMoved()
      return { ok: true, lease: null, done: false }
    }
    const clock = this.ssp.activate(worker)
    this.members.get(worker)!.lastProgress = this.now()
    return { ok: true, lease: this.grant(l, clock), done: false }
  }

  private grant(l: Lease, clock: number): LeaseGrant {
    return { id: l.id, shard: l.shard, epoch: l.epoch, n: this.shardRows(l.shard), clock, url: `/api/jobs/${this.id}/shards/${l.shard}` }
  }

  update(worker: string, m: Msg<'update'>): Reply<'update'> {
    if (this.state !== 'running') return reject('ERR_JOB_CLOSED', `the job is ${this.state}`)
    const { K, J } = this.info.dims
    let floats: Float32Array
    try {
      floats = validateUpdatePayload(m.form, m.rows, m.payload, K, J, this.info.hyper.batch)
    } catch (e) {
      return rejection(e)
    }
    // A peer that left while the update was on its way is fine; an id that never was in this job is not.
    for (const p of m.p2pTo) if (p === worker || (!this.members.has(p) && !this.departed.has(p))) return reject('ERR_NOT_IN_JOB', `p2pTo names ${p}, not a peer in this job`)
    const held = this.ledger.leasesOf(worker)[0]
    if (!held) return reject('ERR_LEASE', 'updates come only from a worker that holds a shard')
    if (held.rows + m.rows > this.shardRows(held.shard)) return reject('ERR_BAD_SHAPE', `more rows than shard ${held.shard} has`)
    const recorded = this.ssp.record(worker, m.clock, m.prev)
    if ('ok' in recorded) return recorded
    // Accepted: from here on the update counts.
    held.rows += m.rows
    const me = this.members.get(worker)!
    me.lastProgress = this.now()
    me.samples += m.rows
    me.lastLoss = m.loss / m.rows
    if (me.firstLoss === null) me.firstLoss = me.lastLoss
    this.samples += m.rows
    this.clocksByWorker.set(worker, m.clock + 1)
    const payload = asBytes(m.payload)
    const u = { from: worker, clock: m.clock, prev: m.prev, form: m.form, rows: m.rows, payload }
    this.replica.receive({ ...u, floats })
    this.log.add(u)
    this.bytes.coordinator += payload.byteLength
    const direct = new Set(m.p2pTo)
    this.bytes.p2p += payload.byteLength * direct.size
    for (const [id, peer] of this.members) {
      if (id === worker || !peer.ready || direct.has(id)) continue
      this.out.send(id, 'update', u)
      this.bytes.relay += payload.byteLength
    }
    if (recorded.moved) this.minMoved()
    return { ok: true }
  }

  shardDone(worker: string, m: Msg<'shard-done'>): Reply<'shard-done'> {
    const l = this.ledger.get(m.lease)
    if (!l || l.worker !== worker) return reject('ERR_LEASE', `lease ${m.lease} is not held by this worker`)
    const n = this.shardRows(l.shard)
    if (l.rows !== n) return reject('ERR_LEASE', `shard ${l.shard} has ${n} rows, updates covered ${l.rows}`)
    this.ledger.complete(m.lease, worker)
    if (this.ledger.done) this.finish()
    return { ok: true }
  }

  resend(worker: string, m: Msg<'resend'>): Reply<'resend'> {
    const { updates, truncated } = this.log.since(m.from, m.after)
    if (truncated) return reject('ERR_LOG_TRUNCATED', `updates of ${m.from} after clock ${m.after} are no longer all logged`)
    for (const u of updates) {
      this.out.send(worker, 'update', u)
      this.bytes.relay += u.payload.byteLength
    }
    return { ok: true, count: updates.length }
  }

  link(worker: string, m: Msg<'link'>): Reply<'link'> {
    if (this.departed.has(m.peer)) return { ok: true }
    if (!this.members.has(m.peer)) return reject('ERR_NOT_IN_JOB', `worker ${m.peer} is not in this job`)
    this.members.get(worker)!.links[m.peer] = m.state
    return { ok: true }
  }

  stats(worker: string, m: Msg<'stats'>): Reply<'stats'> {
    const me = this.members.get(worker)!
    me.samplesPerSecond = m.samplesPerSecond
    me.bytes = { ...m.bytes }
    return { ok: true }
  }

  /** A worker's socket closed: its leases go back to the pool and its peers stop waiting for it. */
  leave(worker: string): void {
    if (!this.members.delete(worker)) return
    this.departed.add(worker)
    for (const l of this.ledger.release(worker)) {
      this.returned.push({ worker, shard: l.shard, epoch: l.epoch })
    }
    const { last, moved } = this.ssp.remove(worker)
    for (const [id, m] of this.members) {
      delete m.links[worker]
      this.out.send(id, 'peer-left', { worker, last })
    }
    if (moved) this.minMoved()
  }

  /** Periodic duties: evict stalled workers, evaluate. */
  tick(): void {
    const t = this.now()
    if (this.state === 'running') {
      for (const m of [...this.members.values()]) {
        const c = this.ssp.clockOf(m.id)
        const held = this.ledger.leasesOf(m.id).length > 0
        // Only a worker the bound lets run can stall; one waiting on the others is just waiting.
        if (!m.ready || !held || c === undefined || !this.ssp.mayStart(c)) continue
        if (t - m.lastProgress > this.info.hyper.stallTimeoutMs) {
          this.out.evict(m.id, reject('ERR_STALLED', `no update for ${Math.round((t - m.lastProgress) / 1000)} s; its shard goes to another worker`))
          this.leave(m.id)
        }
      }
    }
    this.evaluate(false)
  }

  // ── views ──────────────────────────────────────────────────────────────────────────────────────

  summary(): JobSummary {
    const last = this.curve[this.curve.length - 1]
    const secs = this.startedAt ? ((this.finishedAt ?? this.now()) - this.startedAt) / 1000 : 0
    return {
      id: this.id,
      name: this.info.name,
      state: this.state,
      workers: this.readyCount(),
      minClock: this.ssp.min,
      maxClock: this.ssp.max,
      maxObservedStaleness: this.ssp.maxObservedStaleness,
      epoch: Math.min(this.ledger.epoch, this.info.hyper.epochs - 1),
      shardsDone: this.ledger.processed,
      shardsTotal: this.ledger.total,
      testAccuracy: last ? last.testAccuracy : null,
      testLoss: last ? last.testLoss : null,
      samplesPerSecond: secs > 0 ? this.samples / secs : 0,
      createdAt: this.startedAt ?? 0,
      hyper: this.info.hyper,
      dataset: this.info.dataset,
    }
  }

  modelBytes(): Uint8Array {
    return encodeParams(this.replica.params)
  }

  /** A shard as served over HTTP (protocol/shard.ts); undefined for a shard the job does not have. */
  shardBytes(shard: number): Uint8Array | undefined {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.info.shards.count) return undefined
    const { J } = this.info.dims
    const start = shard * this.info.shards.size
    const n = this.shardRows(shard)
    return encodeShard(this.data.train.x.subarray(start * J, (start + n) * J), this.data.train.y.subarray(start, start + n), n, J)
  }

  readyCount(): number {
    let n = 0
    for (const m of this.members.values()) if (m.ready) n++
    return n
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  private shardRows(shard: number): number {
    const size = this.info.shards.size
    return Math.min(size, this.data.train.n - shard * size)
  }

  private minMoved(): void {
    const view = this.ssp.view()
    // Whoever waited on the slowest starts its stall clock afresh: only a worker holding the min still is stalling.
    const t = this.now()
    for (const m of this.members.values()) m.lastProgress = Math.max(m.lastProgress, t)
    this.replica.advance(view.min)
    this.log.trim(view.min - this.info.hyper.staleness - 1 - LOG_MARGIN_CLOCKS)
    for (const [id, m] of this.members) if (m.ready) this.out.send(id, 'clock', view)
    this.evaluate(false)
  }

  private setState(s: JobState): void {
    this.state = s
    if (s === 'running' && this.startedAt === null) this.startedAt = this.now()
    for (const id of this.members.keys()) this.out.send(id, 'job', { state: s })
  }

  private finish(): void {
    this.replica.flush()
    this.finishedAt = this.now()
    this.evaluate(true)
    this.setState('done')
  }

  private evaluate(force: boolean): void {
    const t = this.now()
    const last = this.curve[this.curve.length - 1]
    if (!force && (t - this.lastEval < EVAL_INTERVAL_MS || (last && last.clock === this.replica.frontier + 1))) return
    this.lastEval = t
    const { test } = this.data
    const r = evaluate(this.info.dims, this.replica.params, test.x, test.y, test.n)
    this.curve.push({ t, clock: this.replica.frontier + 1, testAccuracy: r.accuracy, testLoss: r.loss })
  }
}

function rejection(e: unknown): Rejection {
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e instanceof Error) {
    return reject(e.code as Rejection['code'], e.message.replace(/^[A-Z_]+: /, ''))
  }
  throw e
}
