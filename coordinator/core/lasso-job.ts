// A Lasso job (issue 9, STRADS) on the grid: members, column-block leases, the round pipeline under the staleness
// bound, checks on every result, and β and the residual, which only this core changes. No socket.io here.
import { BlockLedger } from '../../apps/lasso/blocks.ts'
import { dot, lambdaMax, nonzeros } from '../../apps/lasso/objective.ts'
import { makeScheduler, type Scheduler } from '../../apps/lasso/scheduler.ts'
import { coordinateDeltas } from '../../apps/lasso/step.ts'
import { column, type RegressionData } from '../../apps/lasso/types.ts'
import { asBytes, bytesOf, f32 } from '../../protocol/bytes.ts'
import { reject, type Rejection } from '../../protocol/errors.ts'
import type { JobControl, JobState } from '../../protocol/job.ts'
import type { BlockGrant, LassoDetail, LassoHyper, LassoJobInfo, LassoPoint, LassoSummary } from '../../protocol/lasso.ts'
import { MAX_WORKERS_PER_JOB } from '../../protocol/limits.ts'
import type { Msg, Reply, ServerEvents } from '../../protocol/messages.ts'
import { Defence, type DefenceEvent } from './defence.ts'
import { controlOutcome, JobHistory } from './history.ts'
import type { Outbox } from './job.ts'

/** Every this many rounds a worker gets the residual itself instead of its change, so float32 sums cannot drift. */
export const RESIDUAL_REFRESH_EVERY = 32
/** The objective curve keeps a point at most this often (ms), and at the end. */
const CURVE_EVERY_MS = 200
/** Points the curve keeps; past it every other point is dropped. */
const CURVE_MAX = 2000

export interface LassoMember {
  id: string
  engine: 'webgpu' | 'cpu'
  adapter: string
  ready: boolean
  /** Tasks answered, and coordinate updates in them. */
  rounds: number
  updates: number
  /** The version of the newest `lasso-blocks` sent to it. */
  grants: number
  joinedAt: number
  /** The volunteer paused the tab: its blocks went to the others (it answers the tasks it had). */
  paused: boolean
}

interface Task {
  /** Global column indices. */
  picks: Int32Array
  /** β of each pick when the round was issued (no other round in flight touches them). */
  beta: Float64Array
  sentAt: number
  deltas: Float64Array | null
}

interface Round {
  round: number
  tasks: Map<string, Task>
  /** Workers whose answer the round waits for. */
  waiting: Set<string>
}

export interface LassoJobOptions {
  now?: () => number
  random?: () => number
  onEvent?: (e: DefenceEvent) => void
}

/**
 * The coordinator's side of a Lasso job. Round t goes out once round t − s − 1 is done and its residual change sent,
 * so every worker computes round t on a residual at most s rounds old; a round's picks are nearly uncorrelated with
 * each other and with those still in flight (sap), and a coordinate is never in two rounds at once. β and r change
 * only when a round completes, from the accepted Δβ: r stays y − Xβ whatever workers do or leave undone.
 *
 * @example
 * const job = new LassoJob(info, data, outbox)
 * job.hello('w1', hello); job.ready('w1', { type: 'lasso-ready' }) // then lasso-blocks, lasso-hold, tasks…
 */
export class LassoJob {
  readonly app = 'lasso' as const
  readonly id: string
  readonly info: LassoJobInfo
  readonly members = new Map<string, LassoMember>()
  readonly blocks: BlockLedger
  readonly defence: Defence
  readonly beta: Float64Array
  readonly r: Float64Array
  readonly curve: LassoPoint[] = []
  readonly createdAt: number
  startedAt: number | null = null
  finishedAt: number | null = null
  stop: LassoSummary['stop'] = null
  /** Why the job is paused or failed (an operator's pause or cancel); null otherwise. */
  reason: string | null = null
  /** Departed workers, for the job's page. */
  readonly history = new JobHistory()
  /** Rounds completed; the next one to issue. */
  completed = -1
  private next = 0
  private readonly inflight: Round[] = []
  /** Coordinates in rounds in flight. */
  private readonly busy = new Set<number>()
  /** The residual changes of the newest completed rounds (for re-computing a result at the view it states). */
  private readonly changes: Array<{ round: number; dr: Float64Array }> = []
  private readonly scheduler: Scheduler
  private readonly now: () => number
  private readonly random: () => number
  private readonly sq: Float64Array
  private readonly nonEmpty: number
  /** Convergence: `since` counts moves over the tolerance; checked[j] === since: j was still since the last one. */
  private readonly checked: Int32Array
  private since = 0
  private still = 0
  private l1 = 0
  private rr: number
  updates = 0
  verified = 0
  bytesOut = 0
  private lastPoint = -Infinity

  constructor(
    info: Omit<LassoJobInfo, 'lambda' | 'threshold' | 'blocks' | 'app' | 'state'>,
    readonly data: RegressionData,
    private readonly out: Outbox,
    opts: LassoJobOptions = {},
  ) {
    const hyper = info.hyper
    this.now = opts.now ?? Date.now
    this.random = opts.random ?? Math.random
    this.id = info.id
    this.blocks = new BlockLedger(data.p, hyper.blockColumns)
    const lambda = hyper.lambda ?? hyper.lambdaFrac * lambdaMax(data)
    const threshold = hyper.threshold ?? defaultThreshold(data.n)
    this.info = { ...info, app: 'lasso', state: 'pending', lambda, threshold, blocks: { count: this.blocks.count, columns: hyper.blockColumns } }
    this.defence = new Defence(this.now, opts.onEvent)
    this.scheduler = makeScheduler(hyper.scheduler, data, { seed: hyper.seed, threshold, eta: hyper.eta })
    this.beta = new Float64Array(data.p)
    this.r = Float64Array.from(data.y)
    this.rr = dot(this.r, this.r)
    this.sq = Float64Array.from({ length: data.p }, (_, j) => dot(column(data, j), column(data, j)))
    this.nonEmpty = this.sq.filter((s) => s > 0).length
    this.checked = new Int32Array(data.p).fill(-1)
    this.createdAt = this.now()
    this.point(true)
  }

  get state(): JobState {
    return this.info.state
  }

  get hyper(): LassoHyper {
    return this.info.hyper
  }

  get objective(): number {
    return this.rr / 2 + this.info.lambda * this.l1
  }

  // ── messages ─────────────────────────────────────────────────────────────────────────────────────

  hello(worker: string, m: Msg<'hello'>): Reply<'hello'> {
    if (this.state === 'done' || this.state === 'failed') return reject('ERR_JOB_CLOSED', `job ${this.id} is ${this.state}`)
    if (this.members.size >= MAX_WORKERS_PER_JOB) return reject('ERR_JOB_CLOSED', `job ${this.id} has its ${MAX_WORKERS_PER_JOB} workers`)
    this.members.set(worker, { id: worker, engine: m.engine, adapter: m.adapter ?? '', ready: false, rounds: 0, updates: 0, grants: 0, joinedAt: this.now(), paused: false })
    return { ok: true, app: 'lasso', workerId: worker, job: this.jobInfo() }
  }

  /** The worker is ready for rounds: it gets the residual now, its blocks and rounds from here on. */
  ready(worker: string, m: Msg<'lasso-ready'>): Reply<'lasso-ready'> {
    const member = this.members.get(worker)!
    if (member.ready) return reject('ERR_BAD_MESSAGE', 'lasso-ready twice')
    if (m.engine) member.engine = m.engine
    member.ready = true
    this.out.enroll?.(this.id, worker)
    if (this.state === 'pending' && this.readyCount() >= this.hyper.minWorkers) this.setState('running')
    // blocks after the answer (socket.io sends in order): the worker holds the residual before its first task
    queueMicrotask(() => this.rebalance())
    return { ok: true, round: this.completed, r: f32Bytes(this.r) }
  }

  hold(worker: string, m: Msg<'lasso-hold'>): Reply<'lasso-hold'> {
    // said before the worker heard that some of these moved on: those are passed over
    const stale = m.version !== undefined && m.version < this.members.get(worker)!.grants
    const blocks = stale ? m.blocks.filter((b) => this.blocks.holderOf(b) === worker) : m.blocks
    const why = this.blocks.confirm(worker, blocks)
    if (why) return reject('ERR_LEASE', why)
    this.issue()
    return { ok: true }
  }

  result(worker: string, m: Msg<'lasso-result'>): Reply<'lasso-result'> {
    // β is final once the job ended: an answer that was on its way is taken and changes nothing (the worker hears
    // of the end in order with its other events, and goes home)
    if (this.state === 'done' || this.state === 'failed') return { ok: true }
    const round = this.inflight.find((r) => r.round === m.round)
    const task = round?.tasks.get(worker)
    if (!round || !task || task.deltas) return reject('ERR_NOT_SCHEDULED', `round ${m.round} has no unanswered task of this worker`)
    const bytes = asBytes(m.deltas)
    if (bytes.byteLength !== 4 * task.picks.length) return reject('ERR_BAD_SHAPE', `${bytes.byteLength} bytes of deltas for ${task.picks.length} picks (4 each)`)
    const s = this.hyper.staleness
    if (m.view > this.completed || m.view < m.round - s - 1) {
      return reject('ERR_CLOCK', `round ${m.round} computed on the residual of round ${m.view}: it must be between ${m.round - s - 1} and ${this.completed}`)
    }
    const deltas = Float64Array.from(f32(bytes, 'deltas'))
    const bad = deltas.findIndex((d) => !Number.isFinite(d))
    if (bad >= 0) return reject('ERR_NOT_FINITE', `Δβ of column ${task.picks[bad]} is ${deltas[bad]}`)
    const dishonest = this.check(task, deltas, m.view)
    if (dishonest) {
      this.quarantine(worker, dishonest)
      return reject('ERR_BAD_UPDATE', dishonest)
    }
    task.deltas = deltas
    round.waiting.delete(worker)
    const member = this.members.get(worker)!
    member.rounds++
    member.updates += deltas.length
    this.settle()
    return { ok: true }
  }

  /**
   * The volunteer paused its tab (or resumed): its blocks go to the other tabs (or it gets its share back). Tasks it
   * was given are still its to answer.
   */
  pause(worker: string, m: Msg<'pause'>): Reply<'pause'> {
    const member = this.members.get(worker)!
    if (member.paused === m.paused) return { ok: true, returned: 0 }
    const had = this.blocks.of(worker).length
    member.paused = m.paused
    if (member.ready) this.rebalance()
    return { ok: true, returned: m.paused ? had : 0 }
  }

  /**
   * An operator's control: pause stops issuing rounds (those in flight complete) and the stall clock; resume goes on;
   * cancel ends the job as failed (β stays downloadable). An ended job refuses all three with ERR_JOB_CLOSED.
   */
  control(action: JobControl): Rejection | null {
    const o = controlOutcome(action, { state: this.state, started: this.startedAt !== null, reason: this.reason })
    if ('refused' in o) return reject('ERR_JOB_CLOSED', o.refused)
    if (o.state === this.state) return null
    if (this.state === 'paused') {
      // the stall clocks start afresh: nobody was asked for anything while the job stood still
      const now = this.now()
      for (const round of this.inflight) for (const t of round.tasks.values()) t.sentAt = now
    }
    if (o.state === 'failed') this.point(true)
    this.setState(o.state, o.reason)
    if (this.state === 'running') this.issue()
    return null
  }

  /** A worker left (or was evicted): its unanswered tasks are dropped (those coordinates keep their β), its blocks spread. */
  leave(worker: string, why = 'left'): void {
    const gone = this.members.get(worker)
    if (!gone) return
    this.members.delete(worker)
    this.history.departed({ id: worker, engine: gone.engine, adapter: gone.adapter, joinedAt: gone.joinedAt, leftAt: this.now(), why, samples: gone.updates, clock: gone.rounds })
    for (const round of this.inflight) {
      const task = round.tasks.get(worker)
      if (!task || task.deltas) continue
      round.tasks.delete(worker)
      round.waiting.delete(worker)
      for (const j of task.picks) this.busy.delete(j)
    }
    this.blocks.release(worker)
    this.settle()
    this.rebalance()
  }

  /** Stalls: a task unanswered, or a block not fetched, for the stall timeout evicts its worker. */
  tick(): void {
    if (this.state !== 'running') return
    const now = this.now()
    const ms = this.hyper.stallTimeoutMs
    const stalled = new Set<string>()
    for (const round of this.inflight) for (const w of round.waiting) if (now - round.tasks.get(w)!.sentAt > ms) stalled.add(w)
    for (const { worker } of this.blocks.overdue(now, ms)) stalled.add(worker)
    for (const w of stalled) {
      this.out.evict(w, reject('ERR_STALLED', `no answer within ${Math.round(ms / 1000)} s`))
      this.leave(w, 'ERR_STALLED')
    }
    this.issue()
  }

  watch(): void {}

  // ── views ────────────────────────────────────────────────────────────────────────────────────────

  jobInfo(): LassoJobInfo {
    return structuredClone(this.info)
  }

  summary(): LassoSummary {
    return {
      id: this.id,
      app: 'lasso',
      name: this.info.name,
      state: this.state,
      dataset: this.info.dataset,
      lambda: this.info.lambda,
      hyper: this.hyper,
      workers: this.readyCount(),
      rounds: this.completed + 1,
      updates: this.updates,
      objective: this.objective,
      initialObjective: dot(this.data.y, this.data.y) / 2,
      nonzeros: nonzeros(this.beta),
      blocks: { count: this.blocks.count, held: this.blocks.held },
      stop: this.stop,
      reason: this.reason,
      createdAt: this.createdAt,
      startedAt: this.startedAt,
      finishedAt: this.finishedAt,
    }
  }

  detail(): LassoDetail {
    return {
      ...this.summary(),
      info: this.jobInfo(),
      curve: this.curve.slice(),
      workersList: [...this.members.values()].map((m) => ({
        id: m.id,
        engine: m.engine,
        adapter: m.adapter,
        ready: m.ready,
        rounds: m.rounds,
        updates: m.updates,
        joinedAt: m.joinedAt,
        paused: m.paused,
        blocks: this.blocks.of(m.id),
      })),
      defence: { ...this.defence.snapshot(), verified: this.verified },
      bytes: { coordinator: this.bytesOut },
      departed: this.history.departedView(),
    }
  }

  /** Column block b as f32, column-major (a view of the data, no copy); undefined past the last block. */
  blockBytes(b: number): Float32Array | undefined {
    if (!(Number.isInteger(b) && b >= 0 && b < this.blocks.count)) return undefined
    const { first, cols } = this.blocks.range(b)
    return this.data.x.subarray(first * this.data.n, (first + cols) * this.data.n)
  }

  // ── rounds ───────────────────────────────────────────────────────────────────────────────────────

  readyCount(): number {
    let n = 0
    for (const m of this.members.values()) if (m.ready) n++
    return n
  }

  /** Issues rounds while fewer than s + 1 are in flight and some column can be scheduled. */
  private issue(): void {
    while (this.state === 'running' && this.inflight.length <= this.hyper.staleness && this.next <= this.hyper.maxRounds - 1) {
      const holders = this.blocks.holders()
      if (holders.size === 0) return
      const count = this.hyper.scheduler === 'sequential' ? 1 : this.hyper.picks * holders.size
      const busy = [...this.busy]
      const picks = this.scheduler.pick(this.next, count, { eligible: (j) => this.sq[j] > 0 && !this.busy.has(j) && this.blocks.ready(j), busy })
      if (picks.length === 0) return
      const byWorker = new Map<string, number[]>()
      for (const j of picks) {
        const w = this.blocks.holderOf(this.blocks.blockOf(j))!
        const list = byWorker.get(w) ?? []
        list.push(j)
        byWorker.set(w, list)
      }
      const round: Round = { round: this.next++, tasks: new Map(), waiting: new Set() }
      const now = this.now()
      for (const [w, js] of byWorker) {
        const task: Task = { picks: Int32Array.from(js), beta: Float64Array.from(js, (j) => this.beta[j]), sentAt: now, deltas: null }
        round.tasks.set(w, task)
        round.waiting.add(w)
        for (const j of js) this.busy.add(j)
        this.out.send(w, 'lasso-task', { round: round.round, picks: new Uint8Array(Uint32Array.from(js).buffer), beta: f32Bytes(task.beta) })
      }
      this.inflight.push(round)
    }
  }

  /** Completes the rounds at the head of the pipeline whose answers are all in, in order; then issues more. */
  private settle(): void {
    while (this.inflight.length && this.inflight[0].waiting.size === 0) this.complete(this.inflight.shift()!)
    if (this.state === 'running') this.issue()
  }

  private complete(round: Round): void {
    const { n, x } = this.data
    const dr = new Float64Array(n)
    const tol = this.hyper.tolerance
    let moved = 0
    const js: number[] = []
    const ds: number[] = []
    for (const task of round.tasks.values()) {
      if (!task.deltas) continue
      for (let k = 0; k < task.picks.length; k++) {
        const j = task.picks[k]
        const d = task.deltas[k]
        this.busy.delete(j)
        const next = task.beta[k] + d
        this.l1 += Math.abs(next) - Math.abs(this.beta[j])
        this.beta[j] = next
        this.scheduler.observe(j, d)
        this.updates++
        js.push(j)
        ds.push(d)
        if (d === 0) continue
        moved = Math.max(moved, Math.abs(d))
        for (let i = 0, o = j * n; i < n; i++) dr[i] += x[o + i] * d
      }
    }
    for (let i = 0; i < n; i++) this.r[i] -= dr[i]
    this.rr = dot(this.r, this.r)
    // converged once every coordinate stood still (|Δβ| ≤ tolerance) since the last larger move
    if (moved > tol) {
      this.since++
      this.still = 0
    }
    for (let k = 0; k < js.length; k++) {
      if (Math.abs(ds[k]) <= tol && this.checked[js[k]] !== this.since) {
        this.checked[js[k]] = this.since
        this.still++
      }
    }
    this.completed = round.round
    this.changes.push({ round: round.round, dr })
    while (this.changes.length > this.hyper.staleness + 2) this.changes.shift()
    const refresh = round.round % RESIDUAL_REFRESH_EVERY === RESIDUAL_REFRESH_EVERY - 1
    const msg = refresh ? { round: round.round, r: f32Bytes(this.r) } : { round: round.round, dr: f32Bytes(dr) }
    this.broadcast('lasso-round', msg)
    this.bytesOut += 4 * n * this.readyCount()
    this.point(false)
    if (this.still >= this.nonEmpty) this.finish('converged')
    else if (round.round >= this.hyper.maxRounds - 1) this.finish('maxRounds')
  }

  /**
   * Why a result cannot be honest, or null: a coordinate moved further than any residual of that size allows, or
   * (for a sampled share) Δβ differs from the coordinator's own at the residual of the round the worker stated.
   */
  private check(task: Task, deltas: Float64Array, view: number): string | null {
    const rView = this.residualAt(view)
    const norm = Math.sqrt(dot(rView, rView))
    for (let k = 0; k < deltas.length; k++) {
      const j = task.picks[k]
      // |β'| = |S(xⱼᵀr + β, λ)| ≤ |β| + ‖r‖ for a unit column
      const bound = Math.abs(task.beta[k]) + norm * Math.sqrt(this.sq[j]) * (1 + 1e-3) + 1e-6
      if (Math.abs(task.beta[k] + deltas[k]) > bound) return `Δβ of column ${j} (${deltas[k]}) moves it past any step the residual allows (|β| ≤ ${bound.toPrecision(4)})`
    }
    if (this.random() >= this.hyper.verifyRate) return null
    this.verified++
    const beta = Float64Array.from(task.beta)
    const local = Int32Array.from(task.picks.keys())
    const cols = new Float32Array(task.picks.length * this.data.n)
    task.picks.forEach((j, k) => cols.set(this.data.x.subarray(j * this.data.n, (j + 1) * this.data.n), k * this.data.n))
    const want = coordinateDeltas({ n: this.data.n, cols: task.picks.length, x: cols }, rView, local, beta, this.info.lambda)
    for (let k = 0; k < want.length; k++) {
      const tol = 1e-4 + 1e-5 * norm + 1e-3 * Math.abs(want[k])
      if (Math.abs(want[k] - deltas[k]) > tol) return `Δβ of column ${task.picks[k]} is ${deltas[k]}, re-computed at round ${view}: ${want[k]}`
    }
    return null
  }

  /** The residual after round `view` (≥ completed − s − 1): the current one with the newer rounds' changes put back. */
  private residualAt(view: number): Float64Array {
    const r = Float64Array.from(this.r)
    for (const c of this.changes) if (c.round > view) for (let i = 0; i < r.length; i++) r[i] += c.dr[i]
    return r
  }

  private quarantine(worker: string, reason: string): void {
    this.defence.quarantined(worker, reason, { after: this.completed, updates: 0, shards: 0 })
    this.out.evict(worker, reject('ERR_QUARANTINED', reason))
    this.leave(worker, 'ERR_QUARANTINED')
  }

  private rebalance(): void {
    if (this.state === 'done' || this.state === 'failed') return
    const ready = [...this.members.values()].filter((m) => m.ready && !m.paused).map((m) => m.id)
    for (const w of this.blocks.balance(ready, this.now())) {
      const m = this.members.get(w)!
      this.out.send(w, 'lasso-blocks', { version: ++m.grants, blocks: this.grants(w) })
    }
  }

  private grants(worker: string): BlockGrant[] {
    return this.blocks.of(worker).map((b) => ({ block: b, ...this.blocks.range(b), url: `/api/jobs/${this.id}/blocks/${b}` }))
  }

  private finish(stop: NonNullable<LassoSummary['stop']>): void {
    this.stop = stop
    this.point(true)
    this.setState('done')
  }

  private setState(s: JobState, reason: string | null = null): void {
    if (this.info.state === s) return
    this.info.state = s
    this.reason = reason
    if (s === 'running' && this.startedAt === null) this.startedAt = this.now()
    if (s === 'done' || s === 'failed') this.finishedAt = this.now()
    for (const w of this.members.keys()) this.out.send(w, 'job', { state: s, ...(reason ? { reason } : {}) })
  }

  private broadcast<E extends 'lasso-round'>(event: E, msg: Parameters<ServerEvents[E]>[0]): void {
    if (this.out.broadcast) this.out.broadcast(this.id, event, msg)
    else for (const m of this.members.values()) if (m.ready) this.out.send(m.id, event, msg)
  }

  private point(force: boolean): void {
    const t = this.now()
    if (!force && t - this.lastPoint < CURVE_EVERY_MS) return
    this.lastPoint = t
    this.curve.push({ t, round: this.completed + 1, objective: this.objective, nonzeros: nonzeros(this.beta), updates: this.updates })
    if (this.curve.length > CURVE_MAX) this.curve.splice(1, this.curve.length - 1, ...this.curve.slice(1).filter((_, i) => i % 2 === 1))
  }
}

/** SAP's dependency threshold for n samples: 0.1, or 3/√n where chance correlations of independent columns reach that. */
export function defaultThreshold(n: number): number {
  return Math.max(0.1, 3 / Math.sqrt(n))
}

/** Float64 values as f32 little-endian bytes, for a message. */
function f32Bytes(v: ArrayLike<number>): Uint8Array {
  return bytesOf(Float32Array.from(v))
}
