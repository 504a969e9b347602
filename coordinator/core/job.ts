// One training job's state machine: members, SSP clock, shard ledger, relay, parameter server, replica. No sockets.
import { createHash } from 'node:crypto'
import { learningRate } from '../../apps/sgd/schedule.ts'
import { initParams } from '../../model/params.ts'
import type { ModelPlan } from '../../model/plan.ts'
import type { Part } from '../../model/update.ts'
import { reject, type Rejection } from '../../protocol/errors.ts'
import { encodeFrame, encodeParts, readFrame, type RawFrame } from '../../protocol/frames.ts'
import { isEnded, maxRowsOf, type JobControl, type JobInfo, type JobState, type JobSummary } from '../../protocol/job.ts'
import { MAX_DEPARTED, MAX_LEASES, MAX_WORKERS_PER_JOB } from '../../protocol/limits.ts'
import type { ClockTime, ClockView, LeaseGrant, Msg, Replies, ServerEvents, SgdHello, WorkerBytes } from '../../protocol/messages.ts'
import { encodeShard } from '../../protocol/shard.ts'
import { asBytes, packBinaries } from '../../protocol/bytes.ts'
import type { Dataset } from '../data/index.ts'
import { ClaimBook } from './claims.ts'
import { Defence, type DefenceEvent, type Undone } from './defence.ts'
import { normBounds, UpdateGuard } from './guard.ts'
import { Verifier } from './recompute.ts'
import { CommState } from './comm.ts'
import { inlineEvaluator, TestCurve, type Evaluator } from './evaluator.ts'
import { controlOutcome, JobHistory } from './history.ts'
import { IdPool } from './id-pool.ts'
import { ShardLedger, type Completion, type Lease } from './ledger.ts'
import { Pace } from './pace.ts'
import { ParamServer } from './param-server.ts'
import { Replica } from './replica.ts'
import { SspTable } from './ssp.ts'
import { partSizes, Traffic } from './traffic.ts'
import { Unverified } from './undo.ts'
import { LOG_MARGIN_CLOCKS, UpdateLog } from './update-log.ts'

/** How often a server runs a job's periodic duties (JobCore.tick), and its probation check (JobCore.watch). */
export const TICK_EVERY_MS = 1000
export const WATCH_EVERY_MS = 250

/** Tabs that said hello but are not ready yet (linking to peers); past it the oldest is evicted for a newcomer. */
export const MAX_LINKING_PER_JOB = 64

/** A resend serves at most 2s + this many updates of one peer per request. */
export const RESEND_SLACK = 4

/** Where a job's outbound events go; the socket layer implements it, tests fake it. */
export interface Outbox {
  send<E extends keyof ServerEvents>(to: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void
  /**
   * The same event to every ready worker of `job`, encoded once (a socket.io room). Without it, the job sends to
   * each ready worker in turn.
   */
  broadcast?<E extends keyof ServerEvents>(job: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void
  /** `worker` is ready in `job`: its broadcasts reach it from now on. */
  enroll?(job: string, worker: string): void
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
  /** When its last update was accepted or its last lease granted: a worker holding the min since too long is put on probation. */
  lastUpdateAt: number
  links: Record<string, 'p2p' | 'relay'>
  samples: number
  samplesPerSecond: number
  lastLoss: number | null
  firstLoss: number | null
  bytes: WorkerBytes
  /** Where its clocks went, as it last reported. */
  time?: ClockTime
  /** The volunteer paused the tab (`pause`): it holds no shard and does not count toward the min until it leases again. */
  paused: boolean
  /** The volunteer's throttle, as it last reported (1: flat out). */
  duty: number
}

export interface JobOptions {
  now?: () => number
  /** The starting arena; by default the plan's seeded initialisation. */
  initial?: Float32Array
  /** Evaluates the replica on the test split; by default in this thread. */
  evaluator?: Evaluator
  onError?: (e: Error) => void
  /** Every rejection, report, flag and quarantine, for the log. */
  onEvent?: (e: DefenceEvent) => void
  /** Where accepted updates, undos and the advancing model go to be kept (durable/journal.ts); none: memory only. */
  journal?: JobJournal
  /** Where a job that ran before a restart goes on from (durable/resume.ts). */
  resume?: ResumeState
  /** Ready workers at most (default MAX_WORKERS_PER_JOB); a simulator of a larger grid raises it. */
  maxWorkers?: number
}

/** A job's state from a durable store: its model with every kept update, the clock to go on at, the ledger. */
export interface ResumeState {
  params: Float32Array
  /** The min clock the job goes on at: one past the last clock of any kept update. */
  clock: number
  completions: Completion[]
  samples: number
}

/** What a job tells its durable store. Called on the socket path: implementations buffer and write in batches. */
export interface JobJournal {
  /** An update was accepted (the whole frame the worker sent). */
  accepted(worker: string, clock: number, frame: Uint8Array): void
  /** A quarantine took back `worker`'s updates after clock `after`. */
  undone(worker: string, after: number): void
  /** The replica's frontier moved: every accepted update with clock ≤ frontier is in `params`. */
  advanced(frontier: number, params: Float32Array): void
  /** A shard was processed in an epoch (and, `reopened`, is to be processed again: a quarantine took it back). */
  completed(c: Completion): void
  reopened(epoch: number, shard: number): void
  /** The job's state changed. */
  state(s: JobState): void
}

export type Reply<T extends keyof Replies> = Replies[T] | Rejection

export class JobCore {
  readonly app = 'sgd' as const
  readonly ledger: ShardLedger
  readonly ssp: SspTable
  readonly replica: Replica
  readonly ps: ParamServer
  readonly comm: CommState
  /** Each worker's speed, the job's clock length and mean rows, and the hold before probation. */
  readonly pace: Pace
  readonly traffic: Traffic
  readonly curve: TestCurve
  readonly log = new UpdateLog()
  readonly claims = new ClaimBook()
  readonly guard: UpdateGuard
  readonly verifier: Verifier
  /** Per worker, what it added since its last verified update: a quarantine takes it back. */
  readonly unverified = new Unverified()
  /** The job's min clock when each correction went out (a quarantine's undo); a view counts those it holds. */
  readonly corrections: number[] = []
  /** Rejections, quarantines, bans and flags: counted for the job view, each one logged. */
  readonly defence: Defence
  readonly members = new Map<string, Member>()
  /** Members that are ready (linked, holding the model). */
  private readyN = 0
  /** Of those, the ones their volunteers paused: they compute nothing, so the rate is shared among the others. */
  private pausedN = 0
  /** Members that said hello and are not ready yet, oldest first. */
  private readonly linking = new Set<string>()
  /** Members with fewer than `peerLinks` links: a joiner is handed peers from these only. */
  private readonly open = new IdPool()
  /** Each member's links (both ways), as handed out at hello: at most `peerLinks`. */
  private readonly links = new Map<string, Set<string>>()
  /** Per worker, the clock after its last accepted update: every member, and the last MAX_DEPARTED departed. */
  readonly clocksByWorker = new Map<string, number>()
  /** Workers that were members and left (the last MAX_DEPARTED, oldest first): late references to them are harmless. */
  readonly departed = new Set<string>()
  /** Leases taken back from workers that left or stalled, the last MAX_DEPARTED: their shards went back to the pool. */
  readonly returned: Array<{ worker: string; shard: number; epoch: number }> = []
  /** Every member and the last MAX_DEPARTED departed, with the engine it ran: the job's history. */
  readonly enginesByWorker = new Map<string, 'webgpu' | 'cpu'>()
  state: JobState = 'pending'
  /** Why the job is paused or failed (an operator's pause or cancel); null otherwise. */
  reason: string | null = null
  /** Departed workers and progress once a second, for the job's page. */
  readonly history = new JobHistory()
  startedAt: number | null = null
  finishedAt: number | null = null
  samples = 0
  /** The job's scheduled learning rate at the newest lease (each worker's update carries lr / workers of it). */
  lr: number
  private readonly now: () => number
  private readonly journal: JobJournal | undefined
  private readonly maxWorkers: number

  constructor(
    readonly info: Omit<JobInfo, 'state' | 'bounds'>,
    readonly plan: ModelPlan,
    readonly data: Dataset,
    private readonly out: Outbox,
    opts: JobOptions = {},
  ) {
    this.now = opts.now ?? Date.now
    this.journal = opts.journal
    this.maxWorkers = opts.maxWorkers ?? MAX_WORKERS_PER_JOB
    this.defence = new Defence(this.now, opts.onEvent)
    const { hyper } = info
    const initial = opts.initial ?? initParams(plan)
    const resume = opts.resume
    this.ssp = new SspTable(hyper.staleness, resume?.clock ?? 0)
    this.ledger = new ShardLedger(info.shards.count, hyper.epochs)
    this.replica = new Replica(plan, resume ? resume.params.slice() : initial)
    if (resume) {
      this.ledger.restore(resume.completions)
      this.replica.frontier = resume.clock - 1
      this.samples = resume.samples
    }
    const first = Math.min(info.shards.size, data.train.n)
    // the bounds come from the initial model, so a resumed job keeps the ones it was made with
    this.guard = new UpdateGuard(plan, normBounds(plan, initial, data.train.x, data.train.y, first, Math.min(hyper.batch, first), hyper.clip))
    this.verifier = new Verifier(plan, hyper.verifyRate, this.guard.bounds)
    this.ps = new ParamServer(plan.tensors, resume?.clock ?? 0)
    this.comm = new CommState(plan, hyper.batch, hyper.fanout, hyper.paths)
    this.comm.decide(hyper.minWorkers, this.now(), 0)
    this.pace = new Pace(hyper)
    this.traffic = new Traffic(plan)
    this.curve = new TestCurve(opts.evaluator ?? inlineEvaluator(plan, data.test), data.test.n, this.now, opts.onError)
    this.lr = learningRate(hyper, 0)
    this.curve.maybe(this.replica.params, 0, true)
  }

  get id(): string {
    return this.info.id
  }

  jobInfo(): JobInfo {
    return { ...this.info, state: this.state, bounds: this.guard.bounds }
  }

  // ── worker messages ────────────────────────────────────────────────────────────────────────────

  hello(worker: string, m: Msg<'hello'>): SgdHello | Rejection {
    // Only working members count toward the cap; tabs still linking are capped apart, the oldest giving way, so
    // sockets that say hello and never ready cannot lock volunteers out.
    if (this.readyCount() >= this.maxWorkers) return reject('ERR_JOB_CLOSED', `the job has its ${this.maxWorkers} workers`)
    if (this.linking.size >= MAX_LINKING_PER_JOB) {
      const oldest = this.linking.values().next().value!
      this.out.evict(oldest, reject('ERR_READY_TIMEOUT', `${MAX_LINKING_PER_JOB} tabs were still linking; the oldest gives way to a newcomer`))
      this.leave(oldest, undefined, 'ERR_READY_TIMEOUT')
    }
    const peers = this.pickPeers(worker)
    this.linking.add(worker)
    this.members.set(worker, {
      id: worker,
      engine: m.engine,
      adapter: m.adapter ?? '',
      agent: m.agent ?? '',
      joinedAt: this.now(),
      ready: false,
      lastProgress: this.now(),
      lastUpdateAt: this.now(),
      links: {},
      samples: 0,
      samplesPerSecond: 0,
      lastLoss: null,
      firstLoss: null,
      bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 },
      paused: false,
      duty: 1,
    })
    this.enginesByWorker.set(worker, m.engine)
    for (const p of peers) this.out.send(p, 'peer-joined', { worker })
    return { ok: true, app: 'sgd', workerId: worker, job: this.jobInfo(), peers, paths: this.comm.view() }
  }

  /**
   * A joiner's peers: up to `peerLinks` members that have fewer than that many links, at random (O(cap)); each of
   * them and the joiner stay open to later joiners while under the cap. Both ways bounded: no tab is handed more.
   */
  private pickPeers(worker: string): string[] {
    const cap = this.info.hyper.peerLinks
    const peers = this.open.pick(cap)
    for (const p of peers) {
      const theirs = this.links.get(p)!
      theirs.add(worker)
      if (theirs.size >= cap) this.open.remove(p)
    }
    this.links.set(worker, new Set(peers))
    if (peers.length < cap) this.open.add(worker)
    return peers
  }

  /** A member left: its peers each have a link free again. */
  private unlink(worker: string): void {
    this.open.remove(worker)
    for (const p of this.links.get(worker) ?? []) {
      const theirs = this.links.get(p)
      if (!theirs) continue
      theirs.delete(worker)
      if (theirs.size < this.info.hyper.peerLinks) this.open.add(p)
    }
    this.links.delete(worker)
  }

  /** The peers `worker` was linked with at hello (or linked to later by joiners). */
  linksOf(worker: string): ReadonlySet<string> {
    return this.links.get(worker) ?? new Set()
  }

  signal(worker: string, m: Msg<'signal'>): Reply<'signal'> {
    if (m.to === worker || !this.members.has(m.to)) return reject('ERR_NOT_IN_JOB', `worker ${m.to} is not in this job`)
    // WebRTC signaling only between the pairs the coordinator linked: nobody can make a tab open more connections
    if (!this.links.get(worker)?.has(m.to)) return reject('ERR_NOT_IN_JOB', `worker ${m.to} is not one of your peers`)
    this.out.send(m.to, 'signal', { from: worker, data: m.data })
    return { ok: true }
  }

  /** The worker's links are up (or timed out): it becomes a live member and gets the model as of now. */
  ready(worker: string, m?: Msg<'ready'>): Reply<'ready'> {
    const me = this.members.get(worker)!
    if (m?.engine) {
      me.engine = m.engine
      this.enginesByWorker.set(worker, m.engine)
    }
    if (!me.ready) this.readyN++
    this.linking.delete(worker)
    me.ready = true
    me.lastProgress = this.now()
    this.out.enroll?.(this.id, worker)
    const clock = this.ssp.join(worker)
    const snap = this.replica.snapshot()
    this.traffic.snapshot(snap.model.byteLength + snap.pending.frames.byteLength)
    if (this.state === 'pending' && this.readyCount() >= this.info.hyper.minWorkers) this.setState('running')
    this.redecide()
    return { ok: true, clock, ...snap, view: { ...this.ssp.view(), pace: this.pace.view() }, psFrom: this.replica.frontier + 1, corrections: this.corrections.length }
  }

  /**
   * A shard for `worker`: its oldest lease if it holds one (a retried request, or the one it was granted ahead), else
   * the pool's next. With `ahead` (the lease it is on), the one after it: a worker fetches its next shard while it
   * trains, so the shard boundary costs no round trip. Updates count toward the oldest lease.
   */
  lease(worker: string, m: Msg<'lease'> = { type: 'lease' }): Reply<'lease'> {
    if (this.state === 'done' || this.state === 'failed') return { ok: true, lease: null, done: true }
    if (this.state !== 'running') return { ok: true, lease: null, done: false }
    const held = this.ledger.leasesOf(worker)
    if (m.ahead !== undefined) return this.leaseAhead(worker, m.ahead, held)
    if (held[0]) return { ok: true, lease: this.grant(held[0], this.ssp.clockOf(worker) ?? 0), done: false }
    this.setPaused(this.members.get(worker)!, false)
    const l = this.ledger.lease(worker, this.now())
    if (!l) {
      if (this.ssp.deactivate(worker)) this.minMoved()
      return { ok: true, lease: null, done: false }
    }
    const clock = this.ssp.activate(worker)
    const me = this.members.get(worker)!
    me.lastProgress = me.lastUpdateAt = this.now()
    this.rate(l)
    return { ok: true, lease: this.grant(l, clock), done: false }
  }

  /**
   * The lease after `current`: none while the pool holds no more shards than there are workers (at an epoch's end
   * every worker gets one before anyone gets two). Its grant's clock is the worker's now; the worker goes on from
   * its own. Granting it moves neither the worker's progress nor its hold: it is not work done.
   */
  private leaseAhead(worker: string, current: string, held: Lease[]): Reply<'lease'> {
    if (held[0]?.id !== current) return reject('ERR_LEASE', `lease ${current} is not the one this worker is on`)
    const clock = this.ssp.clockOf(worker) ?? 0
    if (held.length > MAX_LEASES - 1) return { ok: true, lease: this.grant(held[MAX_LEASES - 1], clock), done: false }
    if (this.ledger.available <= this.readyCount()) return { ok: true, lease: null, done: false }
    const l = this.ledger.lease(worker, this.now())
    if (!l) return { ok: true, lease: null, done: false }
    this.rate(l)
    return { ok: true, lease: this.grant(l, clock), done: false }
  }

  /**
   * A lease's rate. Per-worker share of the job's rate: the P workers' updates of one clock together make one SGD
   * step of the scheduled rate on their P·B samples, as synchronous data-parallel training averages gradients. Tabs
   * coming and going change how many samples a step averages, not how big a step is. Rows follow speed (Pace), and
   * every row weighs the same: a worker's update of r rows carries r / meanRows of a share.
   */
  private rate(l: Lease): void {
    this.lr = learningRate(this.info.hyper, this.ledger.processed / this.info.shards.count)
    l.lr = (this.lr / Math.max(1, this.readyCount() - this.pausedN)) * (this.info.hyper.batch / this.pace.meanRows)
  }

  private grant(l: Lease, clock: number): LeaseGrant {
    const url = `/api/jobs/${this.id}/shards/${l.shard}`
    return { id: l.id, shard: l.shard, epoch: l.epoch, n: this.shardRows(l.shard), clock, lr: l.lr, ...this.pace.view(), url }
  }

  update(worker: string, m: Msg<'update'>): Reply<'update'> {
    // a pause holds workers at their next clock boundary: the updates on their way meanwhile still count
    if (this.state !== 'running' && this.state !== 'paused') return reject('ERR_JOB_CLOSED', `the job is ${this.state}`)
    let f: RawFrame
    try {
      f = readFrame(m.frame, this.plan.tensors, { expect: 'all', maxRows: maxRowsOf(this.info.hyper) })
    } catch (e) {
      return rejection(e)
    }
    if (m.correct > f.rows) return reject('ERR_BAD_MESSAGE', `correct ${m.correct} is more than the ${f.rows} rows`)
    // A peer that left while the update was on its way is fine; an id that never was in this job is not.
    for (const p of m.p2pTo) if (p === worker || (!this.members.has(p) && !this.departed.has(p))) return reject('ERR_NOT_IN_JOB', `p2pTo names ${p}, not a peer in this job`)
    const held = this.ledger.leasesOf(worker)[0]
    if (!held) return reject('ERR_LEASE', 'updates come only from a worker that holds a shard')
    if (held.rows + f.rows > this.shardRows(held.shard)) return reject('ERR_BAD_SHAPE', `more rows than shard ${held.shard} has`)
    // protocol errors first: a wrong clock is refused, not taken for an attack on the model
    const badClock = this.ssp.validate(worker, f.clock, f.prev)
    if (badClock) return badClock
    // the update's rate: every row weighs lr / B, whatever rows the worker's speed gave this update
    const ctx = { lr: (held.lr * f.rows) / this.info.hyper.batch, rows: f.rows, ...this.batchOf(held.shard, held.rows, f.rows) }
    const corrections = m.view.corrections ?? 0
    let problem = this.guard.check(f.parts, ctx) ?? this.correctionsProblem(f.clock, corrections)
    let verified = false
    if (!problem && this.verifier.sample(worker)) {
      if (corrections < this.corrections.length) {
        // computed before a correction reached it (allowed within s clocks of it): its model cannot be rebuilt
        this.verifier.skipped++
      } else {
        const job = { replica: this.replica, log: this.log, isMember: (w: string) => this.members.has(w) }
        const found = this.verifier.check(job, worker, f.clock, m.view, f.parts, ctx)
        problem = found ?? null
        verified = found === null
      }
    }
    if (problem) {
      this.quarantine(worker, `clock ${f.clock}: ${problem}`)
      return reject('ERR_BAD_UPDATE', problem)
    }
    const sf = f.parts.filter((p) => p.path === 'sf')
    // Peers chain a sender's updates that carry sf parts (`prev` names the one before); one with none is the
    // server's alone: nobody is sent anything for it, so its cost does not grow with the number of workers.
    const recorded = this.ssp.record(worker, f.clock, f.prev, sf.length > 0)
    if ('ok' in recorded) return recorded
    // A joiner's first update past the min counts at the min (SspTable): re-stamped, and relayed to everyone, since
    // what it sent its peers directly carries the old clock.
    const clock = recorded.clock
    const rebased = clock !== f.clock
    this.unverified.accepted(worker, f.parts, f.rows)
    if (verified) this.unverified.verified(worker, clock)
    // Accepted: from here on the update counts.
    held.rows += f.rows
    const me = this.members.get(worker)!
    me.lastProgress = me.lastUpdateAt = this.now()
    me.samples += f.rows
    me.lastLoss = m.loss / f.rows
    if (me.firstLoss === null) me.firstLoss = me.lastLoss
    this.samples += f.rows
    this.clocksByWorker.set(worker, clock + 1)
    this.ps.push(clock, f.parts)
    this.verifier.own(worker, clock, f.parts.filter((p) => p.path === 'ps'))
    this.traffic.upload(m.frame.byteLength, f.parts)
    this.journal?.accepted(worker, clock, rebased ? encodeFrame({ clock, prev: f.prev, rows: f.rows, parts: f.parts }) : asBytes(m.frame))
    if (sf.length) this.forward(worker, clock, f, sf, this.claims.flagged.has(worker) || rebased ? [] : m.p2pTo)
    if (recorded.moved) this.minMoved()
    return { ok: true, clock }
  }

  /**
   * An accepted update's sf parts: into the replica's queue and the log, then a `confirm` to each peer the sender
   * reached directly and the frame itself to the others (a flagged or re-based sender reaches nobody directly).
   */
  private forward(worker: string, clock: number, f: RawFrame, sf: Part[], p2pTo: readonly string[]): void {
    const frame = encodeFrame({ clock, prev: f.prev, rows: f.rows, parts: sf })
    this.replica.receive({ from: worker, clock, rows: f.rows, sf, frame })
    const sizes = partSizes(sf)
    const direct = new Set(p2pTo)
    const digest = createHash('sha256').update(frame).digest('hex')
    this.log.add({ from: worker, clock, prev: f.prev, frame, sizes, digest, direct })
    this.traffic.direct(frame.byteLength, sf, direct.size)
    for (const [id, peer] of this.members) {
      if (id === worker || !peer.ready) continue
      if (direct.has(id)) {
        this.out.send(id, 'confirm', { from: worker, clock, digest })
        continue
      }
      this.out.send(id, 'update', { from: worker, frame })
      this.traffic.relayed(frame.byteLength, sizes)
    }
  }

  shardDone(worker: string, m: Msg<'shard-done'>): Reply<'shard-done'> {
    // after a cancel, the shards left unfinished stay so: the ledger proves what was done
    if (this.state === 'failed') return reject('ERR_JOB_CLOSED', `the job is ${this.state}`)
    const l = this.ledger.get(m.lease)
    if (!l || l.worker !== worker) return reject('ERR_LEASE', `lease ${m.lease} is not held by this worker`)
    const n = this.shardRows(l.shard)
    if (l.rows !== n) return reject('ERR_LEASE', `shard ${l.shard} has ${n} rows, updates covered ${l.rows}`)
    this.ledger.complete(m.lease, worker)
    this.journal?.completed({ epoch: l.epoch, shard: l.shard, worker })
    this.unverified.shardDone(worker, l.epoch, l.shard, (this.clocksByWorker.get(worker) ?? 0) - 1)
    if (this.ledger.done) this.finish()
    return { ok: true }
  }

  /** Updates of a peer the worker asks for again: the oldest few it lacks, never the whole log at once. */
  resend(worker: string, m: Msg<'resend'>): Reply<'resend'> {
    const { updates, truncated } = this.log.since(m.from, m.after)
    if (truncated) return reject('ERR_LOG_TRUNCATED', `updates of ${m.from} after clock ${m.after} are no longer all logged`)
    // A worker never lacks more than about 2s + 2 updates of one peer (the bound stops it first); it asks again later.
    const batch = updates.slice(0, 2 * this.info.hyper.staleness + RESEND_SLACK)
    for (const u of batch) {
      this.out.send(worker, 'update', { from: u.from, frame: u.frame })
      this.traffic.relayed(u.frame.byteLength, u.sizes)
    }
    return { ok: true, count: batch.length }
  }

  /**
   * A direct receiver says an update confirmed to it never came on the data channel, or came different: it gets the
   * real one from the log, and the sender's claim is counted against it (flagged senders lose direct delivery;
   * senders that several peers caught sending two versions are quarantined).
   */
  report(worker: string, m: Msg<'report'>): Reply<'report'> {
    const u = this.log.get(m.from, m.clock)
    if (!u || !u.direct.has(worker)) return { ok: true, relayed: false }
    this.out.send(worker, 'update', { from: u.from, frame: u.frame })
    this.traffic.relayed(u.frame.byteLength, u.sizes)
    const live = this.members.has(m.from)
    const flagged = live && this.claims.report(m.from, worker, m.kind)
    this.defence.reported(m.from, worker, m.clock, m.kind, flagged)
    if (live && m.kind === 'mismatch' && this.claims.equivocating(m.from)) {
      this.quarantine(m.from, `peers received frames from it that differ from what it sent the coordinator (clock ${m.clock})`)
    }
    return { ok: true, relayed: true }
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
    if (m.time) {
      me.time = { ...m.time }
      this.pace.report(worker, m.time)
    }
    if (m.duty !== undefined) me.duty = m.duty
    return { ok: true }
  }

  /**
   * The volunteer paused its tab: its shards go back to the pool (a partly done one is processed again by someone,
   * as when a tab leaves) and it stops counting toward the min clock, so nobody waits on it; it stays a member and
   * keeps receiving updates. Resumed, its next lease counts it again, at the min.
   */
  pause(worker: string, m: Msg<'pause'>): Reply<'pause'> {
    const me = this.members.get(worker)!
    this.setPaused(me, m.paused)
    if (!m.paused) {
      me.lastProgress = me.lastUpdateAt = this.now()
      return { ok: true, returned: 0 }
    }
    const back = this.ledger.release(worker)
    for (const l of back) this.noteReturned({ worker, shard: l.shard, epoch: l.epoch })
    if (this.ssp.deactivate(worker)) this.minMoved()
    return { ok: true, returned: back.length }
  }

  private setPaused(m: Member, paused: boolean): void {
    if (m.paused === paused) return
    m.paused = paused
    this.pausedN += paused ? 1 : -1
  }

  /**
   * An operator's control. Pause holds every worker at its next clock boundary, keeping its lease, and stops the
   * stall and probation clocks; resume starts them afresh and the workers go on where they were; cancel ends the job
   * as failed (its model stays downloadable). An ended job refuses all three with ERR_JOB_CLOSED.
   */
  control(action: JobControl): Rejection | null {
    const o = controlOutcome(action, { state: this.state, started: this.startedAt !== null, reason: this.reason })
    if ('refused' in o) return reject('ERR_JOB_CLOSED', o.refused)
    if (o.state === this.state) return null
    if (o.state === 'failed') {
      this.finish('failed', o.reason)
      return null
    }
    if (this.state === 'paused') {
      const t = this.now()
      for (const m of this.members.values()) m.lastProgress = m.lastUpdateAt = t
    }
    this.setState(o.state, o.reason)
    return null
  }

  /**
   * A worker's socket closed: its leases go back to the pool and its peers stop waiting for it. `cut`: nothing of it
   * after this clock counts (a quarantine took it back).
   */
  leave(worker: string, cut?: number, why = 'left'): void {
    const gone = this.members.get(worker)
    if (!gone) return
    this.history.departed({
      id: worker,
      engine: gone.engine,
      adapter: gone.adapter,
      joinedAt: gone.joinedAt,
      leftAt: this.now(),
      why,
      samples: gone.samples,
      clock: this.clocksByWorker.get(worker) ?? null,
    })
    this.setPaused(gone, false)
    this.members.delete(worker)
    this.linking.delete(worker)
    this.unlink(worker)
    if (gone.ready) this.readyN--
    this.departed.add(worker)
    if (this.departed.size > MAX_DEPARTED) this.forgetOldest()
    this.claims.forget(worker)
    this.unverified.forget(worker)
    this.pace.forget(worker)
    for (const l of this.ledger.release(worker)) {
      this.noteReturned({ worker, shard: l.shard, epoch: l.epoch })
    }
    // peers hold its chain (its updates with factors) up to `last`
    const { last: chain, moved } = this.ssp.remove(worker)
    const last = cut === undefined ? chain : Math.min(chain, cut)
    for (const [id, m] of this.members) {
      delete m.links[worker]
      this.out.send(id, 'peer-left', { worker, last })
    }
    if (moved) this.minMoved()
    this.redecide()
  }

  private noteReturned(r: { worker: string; shard: number; epoch: number }): void {
    this.returned.push(r)
    if (this.returned.length > MAX_DEPARTED) this.returned.shift()
  }

  /** Drops the oldest departed worker from the job's history. */
  private forgetOldest(): void {
    const oldest = this.departed.values().next().value!
    this.departed.delete(oldest)
    this.clocksByWorker.delete(oldest)
    this.enginesByWorker.delete(oldest)
  }

  /**
   * A worker that sent a bad or two-faced update: what it added since its last verified update is taken back on
   * every replica, it is evicted with ERR_QUARANTINED (the edge bans it from the job) and removed like any departure,
   * so its peers drop what they hold of it beyond that update.
   */
  quarantine(worker: string, reason: string): void {
    if (!this.members.has(worker)) return
    const undone = this.takeBack(worker)
    this.defence.quarantined(worker, reason, undone)
    this.out.evict(worker, reject('ERR_QUARANTINED', reason))
    this.leave(worker, undone.after, 'ERR_QUARANTINED')
  }

  /**
   * Undoes `worker`'s updates after its last verified one: the replica negates the sf parts it applied (from the log)
   * and drops those queued, every server delta is negated as one sum, its completed shards go back to the pool, and
   * every other replica gets the same as a `correction`. Updates are linear, so this is exact up to float order.
   * Reaches back as far as the log does (LOG_MARGIN_CLOCKS below the read horizon) for sf parts.
   */
  private takeBack(worker: string): Undone {
    const taken = this.unverified.take(worker)
    this.journal?.undone(worker, taken.after)
    const { updates } = this.log.since(worker, taken.after)
    // peers chain the updates with factors: cut the chain at the last of those at or before `after` (none lies
    // between it and `after`, so the same updates are taken back)
    const c = { ...taken, after: Math.min(taken.after, updates[0]?.prev ?? this.ssp.chainOf(worker)) }
    const frames = updates.map((u) => ({ ...readFrame(u.frame, this.plan.tensors, { expect: 'sf', maxRows: Number.MAX_SAFE_INTEGER }), frame: u.frame }))
    let shards = 0
    for (const s of c.shards) {
      if (!this.ledger.reopen(s.epoch, s.shard, worker)) continue
      this.journal?.reopened(s.epoch, s.shard)
      this.noteReturned({ worker, shard: s.shard, epoch: s.epoch })
      shards++
    }
    if (!frames.length && !c.ps.length) return { after: c.after, updates: 0, shards }
    this.replica.undo(worker, c.after, frames)
    this.replica.applyNow(c.ps)
    this.log.dropAfter(worker, c.after)
    const rows = c.rows
    this.samples -= rows
    const me = this.members.get(worker)
    if (me) me.samples -= rows
    const msg = { seq: this.corrections.length, from: worker, after: c.after, frames: packBinaries(frames.map((f) => f.frame)), ps: encodeParts(c.ps) }
    this.corrections.push(this.ssp.min)
    for (const [id, m] of this.members) if (id !== worker && m.ready) this.out.send(id, 'correction', msg)
    return { after: c.after, updates: c.updates, shards }
  }

  /**
   * A view must hold every correction sent before the job's min clock passed c − s − 1: the worker waited for a
   * clock event with min ≥ c − s, which the coordinator sent after those corrections, on the same socket.
   */
  private correctionsProblem(clock: number, held: number): string | null {
    if (held > this.corrections.length) return `its view holds ${held} corrections; the job made ${this.corrections.length}`
    const owed = this.corrections.filter((min) => min < clock - this.info.hyper.staleness).length
    return held < owed ? `its view holds ${held} corrections; ${owed} were sent before clock ${clock - this.info.hyper.staleness}` : null
  }

  /**
   * Puts on probation each worker that held the min clock longer than the job's hold (`Pace.holdMs`) since its last
   * update or lease: everyone else goes on, and its next update counts at the min. Cheap (only the workers at the min):
   * call it a few times a second.
   */
  watch(): void {
    // the hold every clock view carries: a worker waits for an answer after half of it (Loop), so a re-base finds it
    // waiting; one that did not hears ERR_REBASED and joins again
    const hold = this.pace.holdMs
    if (this.state !== 'running' || hold === 0) return
    const t = this.now()
    let moved = false
    for (const id of [...this.ssp.holders()]) {
      const m = this.members.get(id)
      if (!m || t - m.lastUpdateAt <= hold) continue
      moved = this.ssp.probate(id) || moved
      this.out.send(id, 'probation', { clock: this.ssp.min })
    }
    if (moved) this.minMoved()
  }

  /** Periodic duties (once a second): the job's clock length, evict stalled workers, evaluate. */
  tick(): void {
    const t = this.now()
    this.pace.retarget()
    if (this.state === 'running') {
      for (const m of [...this.members.values()]) {
        const c = this.ssp.clockOf(m.id)
        const held = this.ledger.leasesOf(m.id).length > 0
        // Only a worker the bound lets run can stall; one waiting on the others is just waiting.
        if (!m.ready || !held || c === undefined || !this.ssp.mayStart(c)) continue
        if (t - m.lastProgress > this.info.hyper.stallTimeoutMs) {
          this.out.evict(m.id, reject('ERR_STALLED', `no update for ${Math.round((t - m.lastProgress) / 1000)} s; its shard goes to another worker`))
          this.leave(m.id, undefined, 'ERR_STALLED')
        }
      }
    }
    if (this.startedAt !== null && !isEnded(this.state)) this.sample()
    this.curve.maybe(this.replica.params, this.replica.frontier + 1, false)
  }

  /** A progress point for the job's page. */
  private sample(): void {
    this.history.sample({ t: this.now(), minClock: this.ssp.min, maxClock: this.ssp.max, samples: this.samples, workers: this.readyCount() })
  }

  /** Resolves once the evaluation of the final model is on the curve (or at once while the job runs). */
  async settled(): Promise<void> {
    await this.curve.settled()
  }

  // ── views ──────────────────────────────────────────────────────────────────────────────────────

  summary(): JobSummary {
    const last = this.curve.last
    const secs = this.startedAt ? ((this.finishedAt ?? this.now()) - this.startedAt) / 1000 : 0
    return {
      app: 'sgd',
      id: this.id,
      name: this.info.name,
      state: this.state,
      model: this.plan.name,
      params: this.plan.size,
      workers: this.readyCount(),
      minClock: this.ssp.min,
      maxClock: this.ssp.max,
      maxObservedStaleness: this.ssp.maxObservedStaleness,
      rebased: this.ssp.rebased,
      probations: this.ssp.probations,
      clockMs: this.pace.clockMs,
      epoch: Math.min(this.ledger.epoch, this.info.hyper.epochs - 1),
      shardsDone: this.ledger.processed,
      shardsTotal: this.ledger.total,
      testAccuracy: last ? last.testAccuracy : null,
      testLoss: last ? last.testLoss : null,
      bestTestAccuracy: this.curve.best,
      lr: this.lr,
      samplesPerSecond: secs > 0 ? this.samples / secs : 0,
      samples: this.samples,
      reason: this.reason,
      createdAt: this.startedAt ?? 0,
      hyper: this.info.hyper,
      dataset: this.info.dataset,
    }
  }

  /** A shard as served over HTTP (protocol/shard.ts); undefined for a shard the job does not have. */
  shardBytes(shard: number): Uint8Array | undefined {
    if (!Number.isInteger(shard) || shard < 0 || shard >= this.info.shards.count) return undefined
    const n = this.shardRows(shard)
    const { x, y } = this.batchOf(shard, 0, n)
    return encodeShard(x, y, n, this.plan.inputSize)
  }

  readyCount(): number {
    return this.readyN
  }

  // ── internals ──────────────────────────────────────────────────────────────────────────────────

  /** Inputs and labels of rows [from, from + rows) of a shard. */
  private batchOf(shard: number, from: number, rows: number): { x: Float32Array; y: Uint8Array } {
    const r0 = shard * this.info.shards.size + from
    const J = this.plan.inputSize
    return { x: this.data.train.x.subarray(r0 * J, (r0 + rows) * J), y: this.data.train.y.subarray(r0, r0 + rows) }
  }

  private shardRows(shard: number): number {
    const size = this.info.shards.size
    return Math.min(size, this.data.train.n - shard * size)
  }

  /**
   * Poseidon's rule again with the live number of workers; tells everyone when a path changed. Until the first
   * update the decision is refined in place (tabs arriving one by one are not a history); after the job, nothing moves.
   */
  private redecide(): void {
    if (this.state === 'done' || this.state === 'failed') return
    if (!this.comm.decide(this.readyCount(), this.now(), this.ssp.min, this.samples > 0)) return
    const view = this.comm.view()
    for (const id of this.members.keys()) this.out.send(id, 'paths', view)
  }

  private minMoved(): void {
    const view = { ...this.ssp.delta(), pace: this.pace.view() }
    // Whoever waited on the slowest starts its stall clock afresh: only a worker holding the min still is stalling.
    const t = this.now()
    for (const m of this.members.values()) m.lastProgress = Math.max(m.lastProgress, t)
    // the view rides on the aggregate when there is one: one message per worker per clock, not two
    const carried = this.release(this.ps.take(view.min), view.min, view)
    const live = (w: string) => this.members.has(w)
    this.log.trim(view.min - this.info.hyper.staleness - 1 - LOG_MARGIN_CLOCKS, live)
    this.replica.forget(live)
    this.verifier.trim(view.min, this.info.hyper.staleness, live)
    if (!carried) this.toReady('clock', view)
    this.curve.maybe(this.replica.params, this.replica.frontier + 1, false)
  }

  /**
   * Applies the updates below `to` to the replica and sends the server's aggregate of those clocks to every worker,
   * with the clock `view` of the min move it completes; false when there was nothing to send (the view is not sent).
   */
  private release(agg: ReturnType<ParamServer['take']>, to: number, view?: ClockView): boolean {
    this.replica.advance(to, agg.parts)
    this.journal?.advanced(this.replica.frontier, this.replica.params)
    this.verifier.release(agg.from, agg.to, agg.parts)
    if (!agg.parts.length) return false
    const parts = encodeParts(agg.parts)
    const n = this.toReady('aggregate', { from: agg.from, to: agg.to, parts, ...(view ? { view } : {}) })
    this.traffic.aggregate(parts.byteLength, agg.parts, n)
    return true
  }

  /** One event to every ready worker, encoded once where the outbox can; returns how many it reaches. */
  private toReady<E extends keyof ServerEvents>(event: E, msg: Parameters<ServerEvents[E]>[0]): number {
    if (this.out.broadcast) {
      this.out.broadcast(this.id, event, msg)
      return this.readyCount()
    }
    let n = 0
    for (const [id, m] of this.members) {
      if (!m.ready) continue
      this.out.send(id, event, msg)
      n++
    }
    return n
  }

  private setState(s: JobState, reason: string | null = null): void {
    this.state = s
    this.reason = reason
    this.journal?.state(s)
    if (s === 'running' && this.startedAt === null) this.startedAt = this.now()
    for (const id of this.members.keys()) this.out.send(id, 'job', { state: s, ...(reason ? { reason } : {}) })
  }

  /** The end: every server delta into the replica (and to the workers), the final evaluation, the state. */
  private finish(state: 'done' | 'failed' = 'done', reason: string | null = null): void {
    const agg = this.ps.takeAll()
    this.release(agg, Math.max(agg.to, this.replica.top + 1))
    this.finishedAt = this.now()
    if (this.startedAt !== null) this.sample()
    this.curve.maybe(this.replica.params, this.replica.frontier + 1, true)
    this.setState(state, reason)
  }
}

function rejection(e: unknown): Rejection {
  if (e && typeof e === 'object' && 'code' in e && typeof e.code === 'string' && e instanceof Error) {
    return reject(e.code as Rejection['code'], e.message.replace(/^[A-Z_]+: /, ''))
  }
  throw e
}
