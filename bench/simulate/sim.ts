// The grid simulator (issue 8): the real job core (coordinator/core/job.ts) driven in virtual time by thousands of
// simulated volunteers with their own speeds, round trips, bandwidths, pauses and sessions. No sockets, no real time.
import { performance } from 'node:perf_hooks'
import { ACK_EVERY, IDLE_RETRY_MS } from '../../client/train/loop.ts'
import { RowPacer } from '../../client/train/pace.ts'
import { STATS_EVERY_MS } from '../../client/train/session.ts'
import { JobCore, TICK_EVERY_MS, WATCH_EVERY_MS, type Outbox } from '../../coordinator/core/job.ts'
import type { Dataset } from '../../coordinator/data/index.ts'
import { clipParts } from '../../model/clip.ts'
import { evaluate, trainStep } from '../../model/network.ts'
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { mulberry32 } from '../../model/random.ts'
import { presetSpec } from '../../model/spec.ts'
import { applyParts, type Part } from '../../model/update.ts'
import type { Rejection } from '../../protocol/errors.ts'
import { encodeFrame, partsBytes } from '../../protocol/frames.ts'
import { HyperSchema, type Hyper, type JobSummary } from '../../protocol/job.ts'
import type { ClockTime, ClockView, JobPace, LeaseGrant, View } from '../../protocol/messages.ts'
import { EventQueue } from './events.ts'
import { DEFAULT_BEHAVIOUR, DEVICE_MIX, drawVolunteer, exponential, logNormal, REFERENCE_BATCH, type Behaviour, type DeviceClass, type Volunteer } from './population.ts'

/** A socket.io message's envelope and the JSON beside an update's frame (view, loss, p2pTo). */
const MESSAGE_OVERHEAD = 200
const ZERO_BYTES = { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 }

export interface SimConfig {
  workers: number
  /** Virtual seconds to simulate. */
  seconds: number
  staleness: number
  seed: number
  data: Dataset
  /** A preset (model/spec.ts); default `mlr`. */
  model?: string
  /** The job's B (the median device's rows per update). Default 32. */
  batch?: number
  shardSize?: number
  epochs?: number
  mix?: readonly DeviceClass[]
  behaviour?: Partial<Behaviour>
  /**
   * Workers report their clocks' time every 2 s as tabs do (default), so the coordinator sizes each lease's rows by
   * speed (coordinator/core/pace.ts); false: nobody reports, every lease has B rows (tabgrid before rows by speed).
   */
  reports?: boolean
  /** Workers ask for their next lease while they train on one, as tabs do (default); false: at the shard's end. */
  leaseAhead?: boolean
  /**
   * What one JobCore call costs in virtual time: `measured` (its wall time here, so figures depend on this machine and
   * are not reproducible to the digit) or a fixed number of µs per call (reproducible).
   */
  coordinatorUs?: 'measured' | number
  /** The first workers arrive over this many virtual seconds. */
  rampSeconds?: number
  /** Throughput is measured after this many virtual seconds; default once the min clock reached 2 (or half the run). */
  warmupSeconds?: number
  /** Test evaluations over the run (and one at 0). */
  evalPoints?: number
  hyper?: Partial<Hyper>
}

type Phase = 'join' | 'compute' | 'bound' | 'latency' | 'protocol' | 'idle' | 'pause'
/** Where live workers' time went, weighted by their speed (so each is a share of the ideal samples). */
export const PHASES = ['compute', 'bound', 'latency', 'protocol', 'idle', 'pause'] as const

export interface CurvePoint {
  t: number
  minClock: number
  accuracy: number
  loss: number
}

/** The job's own figures at the run's end (JobSummary: min and max clock, staleness seen, re-bases, probations, clock length). */
export interface SimReport extends Pick<JobSummary, 'minClock' | 'maxClock' | 'maxObservedStaleness' | 'rebased' | 'probations' | 'clockMs'> {
  workers: number
  virtualSeconds: number
  wallSeconds: number
  /** Wall seconds inside JobCore calls, and in the simulated workers' steps (trainStep, clip, encode). */
  wallCoordinator: number
  wallSteps: number
  live: number
  joined: number
  left: number
  evicted: Record<string, number>
  /** Virtual seconds the measured window started at. */
  windowFrom: number
  /** Measured over [windowFrom, end]. */
  samplesPerSecond: number
  idealPerSecond: number
  fraction: number
  updatesPerSecond: number
  clocksPerSecond: number
  /**
   * What moved the min clock after each wait for it, by share of the measured time: the update of a device class's
   * worker (`device: …`), one of a tab that was paused during that clock (`paused tab`), a probation, a stall
   * eviction, a departure.
   */
  heldBy: Record<string, number>
  /**
   * The most B rows for every device could give under SSP: every clock waits for the slowest live device, so the grid
   * computes N·B samples per B/r_min seconds against Σ rᵢ (at the window's start, pauses aside).
   */
  sspCeiling: number
  /** Per phase, the share of the ideal samples (speed-weighted live worker-time) it took. */
  breakdown: Record<(typeof PHASES)[number], number>
  coordinator: {
    updates: number
    usPerUpdate: number
    usPerUpdateP50: number
    usPerUpdateP99: number
    usPerUpdateMax: number
    /** µs per call of the other kinds, and how many. */
    other: Record<string, { calls: number; us: number }>
    /** Cores one coordinator would need for this job alone: JobCore wall time per virtual second. */
    cores: number
    /** Virtual ms messages waited in the coordinator's queue. */
    queueMsMean: number
    queueMsP99: number
  }
  curve: CurvePoint[]
  /** Rejections of honest messages by code (the core must accept every one). */
  rejected: Record<string, number>
  /** Steps started at clock c while the coordinator's min was below c − s. */
  sspViolations: number
  verifier: { checked: number; skipped: number; failed: number }
  /** Σ rows of the updates the core answered ok to, to hold against its own `samples`. */
  acceptedRows: number
  /** The job itself, for tests that inspect the ledger. */
  job: JobCore
}

interface Own {
  clock: number
  parts: Part[]
  rows: number
}

interface SimWorker {
  id: string
  v: Volunteer
  vol: number
  sessionEnd: number
  live: boolean
  gone: boolean
  /** The coordinator no longer takes its messages (evicted or left). */
  dropped: boolean
  phase: Phase
  phaseAt: number
  viewMin: number
  clock: number
  chain: number
  first: boolean
  /** The coordinator said it went on probation (its next update waits for the answer). */
  probation: boolean
  /** When its last update went out or its lease came (client/train/loop.ts `lastSent`). */
  lastSent: number
  /** Its clocks' time, as a tab reports it (`stats`). */
  time: ClockTime
  /**
   * The clock in progress, timed as the client times it (client/train/loop.ts): from the end of the one before (or
   * the shard's start) to the end of its send; the SSP wait (bound and view in flight) apart, the step apart, the
   * rest (acks, the loop) is what the pacer learns as the clock's fixed part.
   */
  clockStart: number
  /** When it began waiting for the bound for this clock (−1: not yet). */
  gateFrom: number
  waited: number
  stepRows: number
  stepMs: number
  pacer: RowPacer
  lease: LeaseGrant | null
  /** The lease after it, granted ahead (client/train/loop.ts `leaseAhead`), and when its shard is fetched. */
  next: LeaseGrant | null
  nextFetched: number
  /** Its ahead request has not been answered yet. */
  asking: boolean
  /** At its shard's end, waiting for that answer. */
  atBoundary: boolean
  row0: number
  evaluated: boolean
  /** Updates that asked for an answer and have not had it. */
  unacked: number
  /** Updates sent without asking for an answer since the last that did. */
  sinceAck: number
  /** Runs when unacked falls to `ackLimit`. */
  onAcks: (() => void) | null
  ackLimit: number
  uplinkFree: number
  downFree: number
  /** ms from the coordinator sending a clock view to this worker holding it (with the aggregate before it). */
  clockDelay: number
  own: Own[]
  pauseStart: number
  pauseEnd: number
  computing: boolean
  stepEnd: number
  stepToken: number
  stepPause: number
  stepStart: number
  /** Sends the update of the step in progress (a pause reschedules it). */
  stepFinish: (() => void) | null
  readyAt: number
}

interface Item {
  w: SimWorker | null
  kind: string
  arrived: number
  run: () => unknown
  reply?: (r: never) => void
  replyBytes?: number
  /** False: the sender asked for no answer, so only a refusal comes back (a `rejected` event). */
  ack?: boolean
}

/**
 * Runs one simulated grid and reports its throughput against the ideal, where the time went, the coordinator's cost
 * and the test accuracy over virtual time.
 *
 * A simulated worker follows the client's loop: lease, fetch the shard, per clock wait for the SSP bound, step, send
 * the update (the first waits for its answer; after it one in eight asks for one, and the loop waits for the one before
 * when two are out), and at the shard's end wait for the answers asked for, say shard-done and lease again. Its step is an honest CPU step of the job's model on its leased
 * rows, computed from the coordinator's replica as it stands when the step starts plus the worker's own updates
 * beyond it. One replica per worker would make every update O(N) to apply (O(N²) per clock); this view is one the
 * protocol allows: the replica holds every update up to the min − 1 ≥ c − s − 1, which is all SSP guarantees a worker
 * at clock c (DESIGN.md, "SSP read guarantee"), and the view it states matches it, so the coordinator's spot
 * re-computation checks it like any other. Only its timing is simulated: it takes rows / rate virtual seconds.
 */
export function simulateGrid(cfg: SimConfig): SimReport {
  const wall0 = performance.now()
  const rand = mulberry32(cfg.seed)
  const q = new EventQueue()
  const mix = cfg.mix ?? DEVICE_MIX
  const beh = { ...DEFAULT_BEHAVIOUR, ...cfg.behaviour }
  const data = cfg.data
  const B = cfg.batch ?? REFERENCE_BATCH
  const s = cfg.staleness
  const shardSize = Math.min(cfg.shardSize ?? 256, data.train.n)
  const hyper = HyperSchema.parse({
    batch: B,
    shardSize,
    epochs: cfg.epochs ?? 100,
    staleness: s,
    // the job starts once half the first wave is in (a few leave before all of it is)
    minWorkers: Math.max(1, Math.min(256, Math.floor(cfg.workers / 2))),
    // rows by speed and probation (coordinator/core/pace.ts), opt-in on a real job for now
    rowsBySpeed: true,
    holdClocks: 2,
    ...cfg.hyper,
  })
  const spec = presetSpec(cfg.model ?? 'mlr', data.classes)
  const plan: ModelPlan = planModel(spec, data)
  const end = cfg.seconds * 1000
  // The measured window starts once the min clock reached 2, or at half the run: the first wave counts at once, so
  // the start waits for its slowest tab's first shard (fetch, a whole-shard evaluation, a step). Until then, ∞.
  let warm = cfg.warmupSeconds !== undefined ? cfg.warmupSeconds * 1000 : Infinity
  const ramp = (cfg.rampSeconds ?? 2) * 1000
  const costUs = cfg.coordinatorUs ?? 'measured'
  const reports = cfg.reports ?? true
  const leaseAhead = cfg.leaseAhead ?? true

  // ── the coordinator ────────────────────────────────────────────────────────────────────────────────────────
  let sends: Array<{ to: string | null; event: string; msg: unknown }> = []
  const byId = new Map<string, SimWorker>()
  const out: Outbox = {
    send(to, event, msg) {
      if (event === 'probation') sends.push({ to, event, msg })
      // other per-member sends (peer-left to every member, peer-joined, paths, job) change nothing in the simulation: the
      // run ends when the job does, and a step reads the job's paths as they are. Relayed factors (an `sf` path, only
      // at small P) are not delivered: peers' replicas are not simulated, their downlinks neither.
    },
    broadcast(_job, event, msg) {
      sends.push({ to: null, event, msg })
    },
    enroll() {},
    evict(worker, why) {
      const w = byId.get(worker)
      if (w) w.dropped = true
      sends.push({ to: worker, event: 'evict', msg: why })
    },
  }
  const job = new JobCore(
    {
      id: 'j-sim',
      name: `simulated grid of ${cfg.workers}`,
      model: spec,
      dataset: { name: data.name, features: data.features, classes: data.classes, train: data.train.n, test: data.test.n },
      hyper,
      shards: { count: Math.ceil(data.train.n / shardSize), size: shardSize },
    },
    plan,
    data,
    out,
    // evaluations run in worker threads on a real coordinator; the simulator evaluates on its own schedule below
    { now: () => q.now, evaluator: async () => ({ loss: 0, accuracy: 0 }), maxWorkers: Math.max(4096, 2 * cfg.workers) },
  )
  const aggBytes = partsBytes(plan.tensors.map((t) => ({ tensor: t.index, path: 'ps', form: 'dense', floats: new Float32Array(t.size) })))
  const modelBytes = plan.size * 4

  const queue: Item[] = []
  let head = 0
  let busy = false
  const updateUs: number[] = []
  const other: Record<string, { calls: number; us: number }> = {}
  let coordWall = 0
  const queueMs: number[] = []
  const rejected: Record<string, number> = {}
  let acceptedRows = 0
  /** Clock views sent: when, and the min they carried (mins only grow). */
  const clockLog: Array<{ t: number; min: number }> = [{ t: -Infinity, min: job.ssp.min }]
  const waiters = new Map<number, SimWorker[]>()
  /** The job's pace in the newest clock view sent (workers read it as it goes out: a view's latency aside). */
  let pace: JobPace = job.pace.view()

  function enqueue(item: Item): void {
    queue.push(item)
    if (!busy) {
      busy = true
      q.at(q.now, processNext)
    }
  }

  function processNext(): void {
    const item = queue[head++]
    if (head > 4096 && head * 2 > queue.length) {
      queue.splice(0, head)
      head = 0
    }
    let cost = 0
    const skip = item.w !== null && item.w.dropped
    let r: unknown
    if (!skip) {
      sends = []
      const before = job.ssp.min
      queueMs.push(q.now - item.arrived)
      const t0 = performance.now()
      r = item.run()
      const dt = performance.now() - t0
      coordWall += dt
      if (item.kind === 'update') updateUs.push(dt * 1000)
      else {
        const o = (other[item.kind] ??= { calls: 0, us: 0 })
        o.calls++
        o.us += dt * 1000
      }
      cost = costUs === 'measured' ? dt : costUs / 1000
      if (item.kind === 'leave' && item.w) item.w.dropped = true
      if (job.ssp.min !== before) minMoved(item)
      const out = sends
      const w = item.w
      const done = q.now + cost
      q.at(done, () => {
        for (const m of out) dispatch(m)
        const answered = item.ack !== false || (r as { ok: boolean }).ok === false
        if (w && item.reply && answered) reply(w, item.replyBytes ?? 300, () => item.reply!(r as never))
      })
    }
    if (head < queue.length) q.at(q.now + cost, processNext)
    else busy = false
  }

  /** A coordinator event, at the time processing ended. */
  function dispatch(m: { to: string | null; event: string; msg: unknown }): void {
    const moved = m.event === 'clock' ? (m.msg as ClockView) : m.event === 'aggregate' ? (m.msg as { view?: ClockView }).view : undefined
    if (moved) {
      if (moved.pace) pace = moved.pace
      const min = moved.min
      const from = clockLog[clockLog.length - 1].min
      clockLog.push({ t: q.now, min })
      for (let need = from + 1; need <= min; need++) {
        const ws = waiters.get(need)
        if (!ws) continue
        waiters.delete(need)
        for (const w of ws) {
          if (w.gone) continue
          // the min moved: the rest of the wait is the view on its way
          setPhase(w, 'latency')
          q.at(q.now + w.clockDelay, () => gate(w))
        }
      }
    } else if (m.event === 'evict') {
      const w = byId.get(m.to!)
      if (w) q.at(q.now + w.v.rttMs / 2, () => evicted(w, m.msg as Rejection))
    } else if (m.event === 'probation') {
      const w = byId.get(m.to!)
      if (w) q.at(q.now + w.v.rttMs / 2, () => (w.probation = true))
    }
    // an aggregate's bytes are in each worker's clockDelay
  }

  function reply(w: SimWorker, bytes: number, fn: () => void): void {
    const at = Math.max(q.now + w.v.rttMs / 2, w.downFree) + bytes / w.v.down
    w.downFree = at
    q.at(at, () => {
      if (!w.gone) fn()
    })
  }

  /** A message over the worker's uplink (FIFO, its bandwidth shared with everything else it sends). */
  function toCoordinator(w: SimWorker, bytes: number, item: Omit<Item, 'w' | 'arrived'>): void {
    const start = Math.max(q.now, w.uplinkFree)
    w.uplinkFree = start + bytes / w.v.up
    const at = w.uplinkFree + w.v.rttMs / 2
    q.at(at, () => enqueue({ ...item, w, arrived: at }))
  }

  /** Who moved the min, with the time since it last moved (inside the measured window). */
  const heldBy: Record<string, number> = {}
  let minMovedAt = 0
  function minMoved(item: Item): void {
    const w = item.w
    const cause =
      item.kind === 'tick'
        ? 'stall eviction'
        : item.kind === 'watch'
          ? 'probation'
          : item.kind === 'leave'
          ? 'departure'
          : w && item.kind === 'update'
            ? w.pauseEnd > minMovedAt
              ? 'paused tab'
              : `device: ${mix[w.v.device].name}`
            : item.kind
    heldBy[cause] = (heldBy[cause] ?? 0) + clip(minMovedAt, q.now)
    minMovedAt = q.now
    if (warm === Infinity && job.ssp.min >= 2) startWindow()
  }

  // ── accounting ─────────────────────────────────────────────────────────────────────────────────────────────
  const weighted: Record<Phase, number> = { join: 0, compute: 0, bound: 0, latency: 0, protocol: 0, idle: 0, pause: 0 }
  let pausedIdeal = 0
  let liveIdeal = 0

  function clip(from: number, to: number): number {
    return Math.max(0, Math.min(to, end) - Math.max(from, warm))
  }

  function setPhase(w: SimWorker, p: Phase): void {
    if (w.live) weighted[w.phase] += w.v.rate * clip(w.phaseAt, q.now)
    w.phase = p
    w.phaseAt = q.now
  }

  function closePause(w: SimWorker, upTo: number): void {
    if (w.live) pausedIdeal += w.v.rate * clip(Math.max(w.pauseStart, w.readyAt), Math.min(w.pauseEnd, upTo))
  }

  // ── workers ────────────────────────────────────────────────────────────────────────────────────────────────
  const volunteers: Volunteer[] = []
  let joined = 0
  let left = 0
  const evictedBy: Record<string, number> = {}
  let sspViolations = 0
  let stepWall = 0
  let nextId = 0
  const shardBytes = shardSize * (plan.inputSize * 4 + 1) + 64

  for (let i = 0; i < cfg.workers; i++) volunteers.push(drawVolunteer(rand, mix, beh, hyper.linkTimeoutMs))

  function newWorker(vol: number, sessionEnd: number): SimWorker {
    const v = volunteers[vol]
    const w: SimWorker = {
      id: `w${nextId++}`,
      v,
      vol,
      sessionEnd,
      live: false,
      gone: false,
      dropped: false,
      phase: 'join',
      phaseAt: q.now,
      viewMin: 0,
      clock: 0,
      chain: -1,
      first: true,
      probation: false,
      lastSent: -Infinity,
      time: { clocks: 0, rows: 0, engineMs: 0, sendMs: 0, applyMs: 0, waitMs: 0, otherMs: 0 },
      clockStart: 0,
      gateFrom: -1,
      waited: 0,
      stepRows: 0,
      stepMs: 0,
      pacer: new RowPacer(hyper),
      lease: null,
      next: null,
      nextFetched: 0,
      asking: false,
      atBoundary: false,
      row0: 0,
      evaluated: false,
      unacked: 0,
      sinceAck: 0,
      onAcks: null,
      ackLimit: 0,
      uplinkFree: 0,
      downFree: 0,
      clockDelay: v.rttMs / 2 + (aggBytes + MESSAGE_OVERHEAD) / v.down,
      own: [],
      pauseStart: 0,
      pauseEnd: 0,
      computing: false,
      stepEnd: 0,
      stepToken: 0,
      stepPause: 0,
      stepStart: 0,
      stepFinish: null,
      readyAt: Infinity,
    }
    byId.set(w.id, w)
    joined++
    q.at(sessionEnd, () => leave(w))
    q.at(q.now + nextPause(), () => pause(w))
    return w
  }

  const nextPause = () => (beh.pausesPerHour > 0 ? exponential(rand, 3_600_000 / beh.pausesPerHour) : Infinity)
  const sessionLength = () => (beh.sessionMeanS > 0 ? exponential(rand, beh.sessionMeanS * 1000) : Infinity)

  function becameLive(w: SimWorker, view: ClockView): void {
    w.live = true
    w.readyAt = q.now
    w.phaseAt = q.now
    w.viewMin = view.min
    askLease(w)
    if (reports) q.at(q.now + STATS_EVERY_MS, () => report(w))
  }

  /** The tab's time report (client/train/session.ts `sendStats`): what the coordinator sizes its leases from. */
  function report(w: SimWorker): void {
    if (w.gone) return
    const time = { ...w.time }
    toCoordinator(w, MESSAGE_OVERHEAD, { kind: 'stats', run: () => job.stats(w.id, { type: 'stats', samplesPerSecond: 0, bytes: ZERO_BYTES, time }) })
    q.at(q.now + STATS_EVERY_MS, () => report(w))
  }

  /** A tab there before the job filled: its links formed while it waited, so hello and ready come together. */
  function arriveInitial(vol: number): void {
    const w = newWorker(vol, q.now + sessionLength())
    toCoordinator(w, MESSAGE_OVERHEAD, {
      kind: 'join',
      run: () => {
        const h = job.hello(w.id, { type: 'hello', engine: 'webgpu' })
        return h.ok ? job.ready(w.id) : h
      },
      replyBytes: modelBytes + MESSAGE_OVERHEAD,
      reply: (r: ReturnType<JobCore['ready']>) => (r.ok ? becameLive(w, r.view) : refused(w, r)),
    })
  }

  /** A joiner during the run: hello, links to its peers (the linking cap applies), then ready. */
  function arrive(vol: number, sessionEnd: number): void {
    const w = newWorker(vol, sessionEnd)
    toCoordinator(w, MESSAGE_OVERHEAD, {
      kind: 'hello',
      run: () => job.hello(w.id, { type: 'hello', engine: 'webgpu' }),
      replyBytes: 2000,
      reply: (r: ReturnType<JobCore['hello']>) => {
        if (!r.ok) return refused(w, r)
        q.at(q.now + w.v.linkMs, () => {
          if (w.gone) return
          toCoordinator(w, MESSAGE_OVERHEAD, {
            kind: 'ready',
            run: () => job.ready(w.id),
            replyBytes: modelBytes + MESSAGE_OVERHEAD,
            reply: (r2: ReturnType<JobCore['ready']>) => (r2.ok ? becameLive(w, r2.view) : refused(w, r2)),
          })
        })
      },
    })
  }

  function refused(w: SimWorker, r: Rejection): void {
    if (process.env.SIM_DEBUG) console.log(`refused ${w.id} at ${q.now.toFixed(0)}: ${r.code} ${r.reason} (min ${job.ssp.min}, lastSent ${w.lastSent.toFixed(0)}, hold ${w.lease?.holdMs}, counted ${job.ssp.isCounted(w.id)})`)
    rejected[r.code] = (rejected[r.code] ?? 0) + 1
    stop(w)
    toCoordinator(w, 0, { kind: 'leave', run: () => job.leave(w.id) })
  }

  function askLease(w: SimWorker): void {
    setPhase(w, 'protocol')
    toCoordinator(w, MESSAGE_OVERHEAD, {
      kind: 'lease',
      run: () => job.lease(w.id),
      reply: (r: ReturnType<JobCore['lease']>) => {
        if (!r.ok) return refused(w, r)
        if (r.done) return stop(w)
        if (!r.lease) {
          setPhase(w, 'idle')
          q.at(q.now + IDLE_RETRY_MS, () => !w.gone && askLease(w))
          return
        }
        startShard(w, r.lease, q.now + w.v.rttMs + shardBytes / w.v.down, false)
      },
    })
  }

  /**
   * Trains on a lease once its shard is fetched (`fetched`); `continuing`: granted ahead, taken up at the worker's
   * own clock. Then (as the client) it asks for the lease after it, whose shard it fetches meanwhile.
   */
  function startShard(w: SimWorker, lease: LeaseGrant, fetched: number, continuing: boolean): void {
    w.lease = lease
    w.row0 = 0
    if (!continuing) {
      w.clock = lease.clock
      w.lastSent = Math.max(w.lastSent, q.now)
    }
    // (on a tab's first shard) an evaluation of its first rows (a forward pass, ~⅓ of a step per row), as the client
    const evalMs = w.evaluated ? 0 : (Math.min(lease.n, B) / w.v.rate / 3) * 1000
    w.evaluated = true
    q.at(fetched, () => !w.gone && askAhead(w, lease))
    q.at(fetched + evalMs, () => {
      if (w.gone) return
      w.clockStart = q.now
      gate(w)
    })
  }

  function askAhead(w: SimWorker, current: LeaseGrant): void {
    if (!leaseAhead) return
    w.asking = true
    toCoordinator(w, MESSAGE_OVERHEAD, {
      kind: 'lease',
      run: () => job.lease(w.id, { type: 'lease', ahead: current.id }),
      reply: (r: ReturnType<JobCore['lease']>) => {
        w.asking = false
        if (r.ok && r.lease) {
          w.next = r.lease
          w.nextFetched = q.now + w.v.rttMs + shardBytes / w.v.down
        }
        if (w.atBoundary) {
          w.atBoundary = false
          boundary(w)
        }
      },
    })
  }

  /** After shard-done: the lease granted ahead, or (none) a lease request. */
  function boundary(w: SimWorker): void {
    if (w.gone) return
    const next = w.next
    w.next = null
    if (next) startShard(w, next, Math.max(q.now, w.nextFetched), true)
    else askLease(w)
  }

  /** The min clock this worker has heard of by now. */
  function knownMin(w: SimWorker): number {
    // the same sum as the wake-up's time, so a worker woken by a view finds it held (no float round-off between)
    let lo = 0
    let hi = clockLog.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (clockLog[mid].t + w.clockDelay <= q.now) lo = mid
      else hi = mid - 1
    }
    return Math.max(w.viewMin, clockLog[lo].min)
  }

  /** Waits until the SSP bound lets this worker start its clock (client/train/loop.ts `gate`). */
  function gate(w: SimWorker): void {
    if (w.gone) return
    if (w.gateFrom < 0) w.gateFrom = q.now
    const need = w.clock - s
    if (knownMin(w) >= need) return begin(w)
    const last = clockLog[clockLog.length - 1]
    if (last.min >= need) {
      // the min has moved at the coordinator: the view is on its way
      let i = clockLog.length - 1
      while (i > 0 && clockLog[i - 1].min >= need) i--
      setPhase(w, 'latency')
      q.at(clockLog[i].t + w.clockDelay, () => gate(w))
      return
    }
    setPhase(w, 'bound')
    let ws = waiters.get(need)
    if (!ws) waiters.set(need, (ws = []))
    ws.push(w)
  }

  function begin(w: SimWorker): void {
    if (q.now < w.pauseEnd) {
      setPhase(w, 'pause')
      q.at(w.pauseEnd, () => !w.gone && begin(w))
      return
    }
    w.waited = q.now - w.gateFrom
    w.gateFrom = -1
    const lease = w.lease!
    const left = lease.n - w.row0
    // rows by speed as the client sizes them (client/train/pace.ts); B for every device without speed reports
    const rows = Math.min(reports ? w.pacer.rows(pace.clockMs) : B, left)
    if (job.ssp.min < w.clock - s) sspViolations++
    const t0 = performance.now()
    // the view: the replica at its frontier F (every update ≤ F), the aggregates below F + 1, its own updates above F
    const F = job.replica.frontier
    const params = job.replica.params.slice()
    w.own = w.own.filter((o) => o.clock > F)
    for (const o of w.own) applyParts(params, plan.tensors, o.parts, o.rows)
    const paths = job.comm.paths
    const start = lease.shard * shardSize + w.row0
    const step = trainStep(plan, params, data.train.x, data.train.y, start, rows, -lease.lr / B, paths)
    const { parts } = clipParts(plan.tensors, step.parts, rows, (lease.lr * rows) / B, job.guard.bounds)
    const sf = parts.some((p) => p.path === 'sf')
    const frame = encodeFrame({ clock: w.clock, prev: w.chain, rows, parts })
    const view: View = { vc: sf ? sfView(w, F) : {}, psUpTo: F + 1, corrections: job.corrections.length }
    stepWall += performance.now() - t0
    setPhase(w, 'compute')
    w.computing = true
    w.stepStart = q.now
    w.stepPause = 0
    w.stepEnd = q.now + (rows / w.v.rate) * 1000
    const token = ++w.stepToken
    const clock = w.clock
    const msg = { type: 'update' as const, loss: step.loss, correct: step.correct, p2pTo: [] as string[], frame, view }
    const finish = () => {
      w.computing = false
      // a pause during the step stretched it: that part is the pause's
      w.phaseAt = q.now - w.stepPause
      weighted.compute += w.v.rate * clip(w.stepStart, w.phaseAt)
      w.stepRows = rows
      w.stepMs = w.phaseAt - w.stepStart
      w.phase = 'pause'
      sent(w, clock, rows, parts, msg, sf)
    }
    w.stepFinish = finish
    q.at(w.stepEnd, () => !w.gone && token === w.stepToken && finish())
  }

  /** Every sf sender the replica holds updates of, at F: what the model the step read holds of each. */
  function sfView(w: SimWorker, F: number): Record<string, number> {
    const vc: Record<string, number> = {}
    for (const p of job.log.senderIds()) if (p !== w.id) vc[p] = F
    for (const p of job.replica.queuedSenders()) if (p !== w.id) vc[p] = F
    return vc
  }

  function sent(w: SimWorker, clock: number, rows: number, parts: Part[], msg: Parameters<JobCore['update']>[1], sf: boolean): void {
    const own: Own = { clock, parts, rows }
    w.own.push(own)
    w.row0 += rows
    // the first update, one after a probation notice, or one after a quiet spell of half the hold waits for its answer
    const quiet = pace.holdMs > 0 && q.now - w.lastSent > pace.holdMs / 2
    const first = w.first || w.probation || quiet
    w.probation = false
    w.lastSent = q.now
    const ask = first || ++w.sinceAck >= ACK_EVERY
    if (ask && !first) w.sinceAck = 0
    if (ask) w.unacked++
    // factors go to peers over the same uplink first (the simulation relays them all through the coordinator)
    const fanout = sf ? partsBytes(parts.filter((p) => p.path === 'sf')) * Math.min(16, Math.max(0, job.readyCount() - 1)) : 0
    toCoordinator(w, fanout + msg.frame.byteLength + MESSAGE_OVERHEAD, {
      kind: 'update',
      run: () => {
        const r = job.update(w.id, msg)
        if (r.ok) acceptedRows += rows
        return r
      },
      ack: ask,
      reply: (r: ReturnType<JobCore['update']>) => {
        if (ask) w.unacked--
        if (!r.ok) return refused(w, r)
        // a joiner's (or a probationer's) first update past the min counts at the min
        own.clock = r.clock
        if (first) w.clock = r.clock + 1
        if (w.onAcks && w.unacked <= w.ackLimit) {
          const fn = w.onAcks
          w.onAcks = null
          fn()
        }
      },
    })
    if (sf) w.chain = clock
    if (first) {
      w.first = false
      setPhase(w, 'protocol')
      return afterAcks(w, 0, () => next(w))
    }
    w.clock = clock + 1
    if (w.unacked > 1) {
      setPhase(w, 'protocol')
      return afterAcks(w, 1, () => next(w))
    }
    next(w)
  }

  function afterAcks(w: SimWorker, limit: number, fn: () => void): void {
    if (w.unacked <= limit) return fn()
    w.ackLimit = limit
    w.onAcks = fn
  }

  /** The clock's end (its send done, and the answers it waits for): what the tab's time report and pacer take. */
  function clockEnded(w: SimWorker): void {
    const rest = Math.max(0, q.now - w.clockStart - w.waited - w.stepMs)
    w.time.clocks++
    w.time.rows += w.stepRows
    w.time.engineMs += w.stepMs
    w.time.waitMs += w.waited
    w.time.otherMs += rest
    w.pacer.observe(w.stepRows, w.stepMs, rest)
    w.clockStart = q.now
  }

  function next(w: SimWorker): void {
    if (w.gone) return
    clockEnded(w)
    if (w.row0 < w.lease!.n) return gate(w)
    // the shard's end: shard-done without waiting for any answer, then the next lease (the client's loop)
    const lease = w.lease!
    toCoordinator(w, MESSAGE_OVERHEAD, {
      kind: 'shard-done',
      run: () => job.shardDone(w.id, { type: 'shard-done', lease: lease.id }),
      ack: false,
      reply: (r: ReturnType<JobCore['shardDone']>) => (r.ok ? undefined : refused(w, r)),
    })
    if (w.asking) {
      setPhase(w, 'protocol')
      w.atBoundary = true
    } else boundary(w)
  }

  function pause(w: SimWorker): void {
    if (w.gone) return
    const d = logNormal(rand, beh.pauseMedianS, beh.pauseSigma) * 1000
    const from = Math.max(q.now, w.pauseEnd)
    const to = Math.max(w.pauseEnd, q.now + d)
    if (q.now >= w.pauseEnd) {
      closePause(w, Infinity)
      w.pauseStart = q.now
    }
    const extra = to - from
    w.pauseEnd = to
    if (w.computing && extra > 0) {
      // a throttled tab: the step in progress ends that much later
      w.stepEnd += extra
      w.stepPause += extra
      const fn = w.stepFinish!
      const token = ++w.stepToken
      q.at(w.stepEnd, () => !w.gone && token === w.stepToken && fn())
    }
    q.at(q.now + nextPause(), () => pause(w))
  }

  function stop(w: SimWorker): void {
    if (w.gone) return
    setPhase(w, 'join')
    if (w.live) liveIdeal += w.v.rate * clip(w.readyAt, q.now)
    closePause(w, q.now)
    w.gone = true
    w.live = false
  }

  /** The tab closes: the socket's close reaches the coordinator after what it sent before. */
  function leave(w: SimWorker): void {
    if (w.gone) return
    stop(w)
    left++
    toCoordinator(w, 0, { kind: 'leave', run: () => job.leave(w.id) })
  }

  /** Evicted (stalled, or the linking cap): the tab stops and shows why (client/train/rejoin.ts rejoins only on
   *  a lost connection or a finished job), so the volunteer is gone until someone reloads the page. */
  function evicted(w: SimWorker, why: Rejection): void {
    if (w.gone) return
    stop(w)
    evictedBy[why.code] = (evictedBy[why.code] ?? 0) + 1
  }

  // ── the run ────────────────────────────────────────────────────────────────────────────────────────────────
  for (let i = 0; i < cfg.workers; i++) q.at((ramp * i) / cfg.workers, () => arriveInitial(i))
  if (beh.sessionMeanS > 0) {
    // newcomers replace leavers on average: N / mean session per second, each with a fresh device and network
    const gap = (beh.sessionMeanS * 1000) / cfg.workers
    const arrival = (): void => {
      volunteers.push(drawVolunteer(rand, mix, beh, hyper.linkTimeoutMs))
      arrive(volunteers.length - 1, q.now + sessionLength())
      q.at(q.now + exponential(rand, gap), arrival)
    }
    q.at(exponential(rand, gap), arrival)
  }
  const tick = (): void => {
    enqueue({ w: null, kind: 'tick', arrived: q.now, run: () => job.tick() })
    q.at(q.now + TICK_EVERY_MS, tick)
  }
  q.at(TICK_EVERY_MS, tick)
  const watch = (): void => {
    enqueue({ w: null, kind: 'watch', arrived: q.now, run: () => job.watch() })
    q.at(q.now + WATCH_EVERY_MS, watch)
  }
  q.at(WATCH_EVERY_MS, watch)
  const curve: CurvePoint[] = []
  const points = cfg.evalPoints ?? 6
  const evalAt = (t: number) =>
    q.at(t, () => {
      const e = evaluate(plan, job.replica.params, data.test.x, data.test.y, data.test.n)
      curve.push({ t: q.now / 1000, minClock: job.ssp.min, accuracy: e.accuracy, loss: e.loss })
    })
  for (let k = 0; k <= points; k++) evalAt((end * k) / points)
  let samplesAtWarm = 0
  let updatesAtWarm = 0
  let minAtWarm = 0
  let ceiling = 0
  const startWindow = () => {
    warm = q.now
    let sum = 0
    let slowest = Infinity
    for (const w of byId.values()) {
      if (!w.live) continue
      sum += w.v.rate
      slowest = Math.min(slowest, w.v.rate)
    }
    ceiling = sum > 0 ? (job.readyCount() * slowest) / sum : 0
    samplesAtWarm = job.samples
    updatesAtWarm = updateUs.length
    minAtWarm = job.ssp.min
  }
  if (warm !== Infinity) q.at(warm, startWindow)
  else q.at(end / 2, () => warm === Infinity && startWindow())

  q.run(end, () => job.state === 'done')
  const tEnd = q.now
  const window = (Math.min(tEnd, end) - warm) / 1000
  let live = 0
  for (const w of byId.values()) {
    if (w.gone) continue
    if (w.live) live++
    stop(w)
  }
  const ideal = (liveIdeal - pausedIdeal) / 1000
  const actual = job.samples - samplesAtWarm
  const total = PHASES.reduce((a, p) => a + weighted[p], 0)
  const sorted = Float64Array.from(updateUs).sort()
  const qs = Float64Array.from(queueMs).sort()
  return {
    workers: cfg.workers,
    virtualSeconds: tEnd / 1000,
    wallSeconds: (performance.now() - wall0) / 1000,
    wallCoordinator: coordWall / 1000,
    wallSteps: stepWall / 1000,
    live,
    joined,
    left,
    evicted: evictedBy,
    minClock: job.ssp.min,
    maxClock: job.ssp.max,
    maxObservedStaleness: job.ssp.maxObservedStaleness,
    rebased: job.ssp.rebased,
    probations: job.ssp.probations,
    clockMs: job.pace.clockMs,
    windowFrom: warm / 1000,
    samplesPerSecond: actual / window,
    idealPerSecond: ideal / window,
    fraction: ideal > 0 ? actual / ideal : 0,
    updatesPerSecond: (updateUs.length - updatesAtWarm) / window,
    clocksPerSecond: (job.ssp.min - minAtWarm) / window,
    heldBy: Object.fromEntries(Object.entries(heldBy).map(([k, v]) => [k, v / Math.max(1, clip(0, tEnd))])),
    sspCeiling: ceiling,
    breakdown: Object.fromEntries(PHASES.map((p) => [p, total > 0 ? weighted[p] / total : 0])) as SimReport['breakdown'],
    coordinator: {
      updates: updateUs.length,
      usPerUpdate: mean(updateUs),
      usPerUpdateP50: pct(sorted, 0.5),
      usPerUpdateP99: pct(sorted, 0.99),
      usPerUpdateMax: sorted.length ? sorted[sorted.length - 1] : 0,
      other: Object.fromEntries(Object.entries(other).map(([k, o]) => [k, { calls: o.calls, us: o.us / o.calls }])),
      cores: coordWall / tEnd,
      queueMsMean: mean(queueMs),
      queueMsP99: pct(qs, 0.99),
    },
    curve,
    rejected,
    sspViolations,
    verifier: { checked: job.verifier.checked, skipped: job.verifier.skipped, failed: job.verifier.failed },
    acceptedRows,
    job,
  }
}

function mean(xs: ArrayLike<number>): number {
  let s = 0
  for (let i = 0; i < xs.length; i++) s += xs[i]
  return xs.length ? s / xs.length : 0
}

function pct(sorted: ArrayLike<number>, p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : 0
}

