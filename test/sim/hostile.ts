// Hostile volunteers on the simulated grid (issue 6): attacker builders (engine, data channel, raw socket) and
// runScenario, which runs one attack beside honest workers and returns the figures the "Done when" asks for.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import type SimplePeer from 'simple-peer'
import { io, type Socket } from 'socket.io-client'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import type { Backend, Session } from '../../client/train/session.ts'
import type { ServerOptions } from '../../coordinator/server.ts'
import type { TensorSpec } from '../../model/layers/types.ts'
import { evaluate } from '../../model/network.ts'
import { scaleParts, type Part } from '../../model/update.ts'
import type { ErrorCode } from '../../protocol/errors.ts'
import { checkParts, decodeFrame, encodeFrame, toChunks } from '../../protocol/frames.ts'
import type { CreateJob, Hyper } from '../../protocol/job.ts'
import { MAX_BATCH } from '../../protocol/limits.ts'
import type { ClientEvents, ClientMessageType, Msg, Reply, ServerEvents } from '../../protocol/messages.ts'
import type { PeerCtor } from './fake-peer.ts'
import { startNodeGrid, type NodeGrid } from './node-grid.ts'

// ── what counts as caught: the one place that says it ─────────────────────────────────────────────────────────────

/** Removed and banned for what it sent. */
export const QUARANTINED: readonly ErrorCode[] = ['ERR_QUARANTINED', 'ERR_BAD_UPDATE', 'ERR_BANNED']
/** Slowed down or refused for how much it sent, or for holding a place without working. */
export const THROTTLED: readonly ErrorCode[] = ['ERR_RATE_LIMITED', 'ERR_READY_TIMEOUT', 'ERR_ADDRESS_LIMIT']
/** A resend answered with more updates than this was not capped (an honest gap is about 2s + 2 updates). */
export const RESEND_REPLY_CAP = 16
/** A rejoined staller kept this long from a lease while honest workers got theirs was backed off. */
export const BACKOFF_SEEN_MS = 1500

export type AttackName = 'scale' | 'flip' | 'huge' | 'alie' | 'freeride' | 'equivocate' | 'p2p-lie' | 'stall' | 'idle-sockets' | 'flood' | 'resend'

/**
 * Per attack, the signals that count as the attacker caught: a code the coordinator answered or evicted it with, or
 * (`or`) a behaviour the harness observes: `backoff` a rejoined staller, once ready, waited BACKOFF_SEEN_MS for a lease
 * while honest workers got theirs; `capped` no resend was answered with more than RESEND_REPLY_CAP updates; `flagged` the
 * job view lists the worker as flagged (its p2pTo claims are no longer trusted).
 */
export const CAUGHT: Record<AttackName, { codes: readonly ErrorCode[]; or?: 'backoff' | 'capped' | 'flagged' }> = {
  scale: { codes: QUARANTINED },
  flip: { codes: QUARANTINED },
  huge: { codes: QUARANTINED },
  alie: { codes: QUARANTINED },
  freeride: { codes: QUARANTINED },
  equivocate: { codes: QUARANTINED },
  'p2p-lie': { codes: [...QUARANTINED, 'ERR_RATE_LIMITED'], or: 'flagged' },
  stall: { codes: [...QUARANTINED, 'ERR_RATE_LIMITED'], or: 'backoff' },
  // every idle socket of the attacker must have been refused or evicted with one of these
  'idle-sockets': { codes: [...THROTTLED, 'ERR_BANNED'] },
  flood: { codes: ['ERR_RATE_LIMITED', 'ERR_BANNED', 'ERR_QUARANTINED'] },
  resend: { codes: ['ERR_RATE_LIMITED', 'ERR_BANNED', 'ERR_QUARANTINED'], or: 'capped' },
}

// ── the engine: what a worker computes ────────────────────────────────────────────────────────────────────────────

/** Rewrites a step's parts (already scaled, −lr/B) before they leave the worker; its own model keeps the honest step. */
export type Lie = (parts: readonly Part[], rows: number, tensors: readonly TensorSpec[]) => Part[]

/** The change each part makes, times c (×10⁶, sign flip ×−1000). */
export function scaled(c: number): Lie {
  return (parts, rows, tensors) => scaleParts(tensors, parts, rows, c)
}

/** Every float ±3·10³⁸ (finite, so schema-valid; their products are not). */
export const huge: Lie = (parts) => parts.map((p) => ({ ...p, floats: p.floats.map((v) => (v < 0 ? -3e38 : 3e38)) }))

/** Free-riding: every float 0, shards reported done all the same. */
export const zero: Lie = (parts) => parts.map((p) => ({ ...p, floats: new Float32Array(p.floats.length) }))

interface Stats {
  updates: number
  /** Running per-coordinate mean and mean square of the honest values (a coordinate: a column of U, or a value). */
  mean: Float64Array
  sq: Float64Array
  max: number
  /** Honest values always summed to 0 over the output units (a softmax layer's U rows, its kernel's columns, its bias). */
  structured: boolean
}

/** Learns one honest part into its running statistics. */
function learn(stats: Map<string, Stats>, p: Part, rows: number, t: TensorSpec, decay: number): Stats {
  const factors = p.form === 'factors'
  const width = factors ? t.rows : p.floats.length
  const count = factors ? rows : 1
  const key = `${p.tensor}:${p.form}`
  const s = stats.get(key) ?? { updates: 0, mean: new Float64Array(width), sq: new Float64Array(width), max: 0, structured: factors || t.rows > 1 }
  stats.set(key, s)
  const f = p.floats
  const a = s.updates++ === 0 ? 1 : decay
  for (let k = 0; k < width; k++) {
    let m = 0
    let q = 0
    for (let r = 0; r < count; r++) {
      const v = f[r * width + k]
      m += v / count
      q += (v * v) / count
      s.max = Math.max(s.max, Math.abs(v))
    }
    s.mean[k] += a * (m - s.mean[k])
    s.sq[k] += a * (q - s.sq[k])
  }
  // sums over the output units: each U row (factors), each kernel column (dense, units × inputs row-major)
  const [groups, len, stride, step] = factors ? [rows, t.rows, 1, t.rows] : [t.cols, t.rows, t.cols, 1]
  for (let g = 0; g < groups && s.structured; g++) {
    let sum = 0
    let abs = 0
    for (let k = 0; k < len; k++) (sum += f[g * step + k * stride]), (abs += Math.abs(f[g * step + k * stride]))
    if (Math.abs(sum) > 1e-4 * abs + 1e-12) s.structured = false
  }
  return s
}

/** Shifts every coordinate by d = −sign(mean)·z·σ (kept summing to 0 where `s.structured`), scales by 1 + ε, bounds. */
function shift(p: Part, rows: number, t: TensorSpec, s: Stats, z: number, eps: number): Part {
  const width = s.mean.length
  const count = p.form === 'factors' ? rows : 1
  const d = s.mean.map((m, k) => -Math.sign(m || 1) * z * Math.sqrt(Math.max(0, s.sq[k] - m * m)))
  if (s.structured) {
    const [groups, len, stride, step] = p.form === 'factors' ? [1, t.rows, 1, 0] : [t.cols, t.rows, t.cols, 1]
    for (let g = 0; g < groups; g++) {
      let mean = 0
      for (let k = 0; k < len; k++) mean += d[g * step + k * stride] / len
      for (let k = 0; k < len; k++) d[g * step + k * stride] -= mean
    }
  }
  const floats = p.floats.slice()
  // structured: one scale for the whole shift keeps every value within the honest maximum and the sums at 0;
  // otherwise each value is clipped on its own
  let alpha = 1
  for (let r = 0; r < count && s.structured; r++) {
    for (let k = 0; k < width; k++) {
      const v = (1 + eps) * floats[r * width + k]
      if (Math.abs(v + d[k]) > s.max) alpha = Math.min(alpha, Math.max(0, (Math.sign(d[k]) * s.max - v) / d[k]))
    }
  }
  for (let r = 0; r < count; r++) {
    for (let k = 0; k < width; k++) floats[r * width + k] = Math.max(-s.max, Math.min(s.max, (1 + eps) * floats[r * width + k] + alpha * d[k]))
  }
  return { ...p, floats }
}

/**
 * "A little is enough" (Baruch et al. 2019), in practice: the coalition pools its members' honest updates into running
 * per-coordinate means and variances and shifts every coordinate by z·σ against the mean's direction, clipped to the
 * largest honest value seen, scaled by 1 + ε. It stays inside the exact checks it can see: tensors whose honest values
 * sum to 0 over the output units (a softmax layer) are left honest when the model has any other tensor to shift, and
 * shifted with those sums kept at 0 when it has not (mlr). V (the layer's input rows) stays honest. One per scenario.
 */
export function alie(z = 1.5, eps = 0, warmup = 9, decay = 0.2): Lie {
  const stats = new Map<string, Stats>()
  return (parts, rows, tensors) => {
    const seen = parts.map((p) => learn(stats, p, rows, tensors[p.tensor], decay))
    if (seen.some((x) => x.updates <= warmup)) return [...parts]
    const free = seen.some((x) => !x.structured)
    return parts.map((p, i) => (free && seen[i].structured ? p : shift(p, rows, tensors[p.tensor], seen[i], z, eps)))
  }
}

/** The CPU engine with `lie` applied to every step it returns. */
export function lyingBackend(lie: Lie): Backend {
  return {
    kind: 'cpu',
    create(plan) {
      const e = createCpuEngine(plan)
      const step = e.step.bind(e)
      e.step = async (row0, rows, scale, paths) => {
        const out = await step(row0, rows, scale, paths)
        return { ...out, parts: lie(out.parts, rows, plan.tensors) }
      }
      return e
    },
  }
}

/** The CPU engine, telling `on.lease` whenever a shard is loaded (a lease began); `hang`: no step ever finishes. */
export function watchedBackend(on: { lease(): void }, hang = false): Backend {
  return {
    kind: 'cpu',
    create(plan) {
      const e = createCpuEngine(plan)
      const load = e.loadShard.bind(e)
      const step = e.step.bind(e)
      e.loadShard = (...a) => (on.lease(), load(...a))
      e.step = (...a) => (hang ? new Promise<never>(() => {}) : step(...a))
      return e
    },
  }
}

// ── the data channels ─────────────────────────────────────────────────────────────────────────────────────────────

/** A simple-peer constructor whose `send` goes through `send(chunk, pass)` first. */
function rewiredPeer(Base: PeerCtor, make: () => (chunk: Uint8Array, pass: (c: Uint8Array) => void) => void): PeerCtor {
  return class extends Base {
    private readonly rewire = make()
    override send(chunk: SimplePeer.SimplePeerData): void {
      this.rewire(chunk as Uint8Array, (c) => super.send(c))
    }
  }
}

/** p2pTo lies: the links open and stay open, the update says it went to every peer, nothing is ever sent. */
export function silentPeer(Base: PeerCtor): PeerCtor {
  return rewiredPeer(Base, () => () => undefined)
}

/**
 * Equivocation: frames to peers carry U ×c, the coordinator gets the honest frame. Chunks are gathered per message,
 * the frame decoded against the model, rewritten and cut again under the same message id, so it stays parseable.
 */
export function equivocatingPeer(Base: PeerCtor, tensors: readonly TensorSpec[], c = 1000, failures: string[] = []): PeerCtor {
  return rewiredPeer(Base, () => {
    let held: Uint8Array[] = []
    return (chunk, pass) => {
      const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      const [id, index, count] = [dv.getUint32(0, true), dv.getUint16(4, true), dv.getUint16(6, true)]
      if (index === 0) held = []
      held.push(chunk.slice(8))
      if (index + 1 < count) return
      const msg = new Uint8Array(held.reduce((n, h) => n + h.byteLength, 0))
      held.reduce((o, h) => (msg.set(h, o), o + h.byteLength), 0)
      let out: Uint8Array = msg
      try {
        const d = decodeFrame(msg)
        const parts = scaled(c)(checkParts(d, tensors, d.rows, { expect: 'sf', maxRows: MAX_BATCH }), d.rows, tensors)
        out = encodeFrame({ clock: d.clock, prev: d.prev, rows: d.rows, parts })
      } catch (e) {
        failures.push(String(e)) // sent unchanged: the attack is then only as strong as the frames it could rewrite
      }
      for (const part of toChunks(id, out)) pass(part)
    }
  })
}

// ── raw socket.io clients ─────────────────────────────────────────────────────────────────────────────────────────

type Raw = Socket<ServerEvents, ClientEvents>

/** A socket from `address` (the coordinator trusts X-Forwarded-For in these scenarios, see SIM_SERVER). */
function rawSocket(url: string, address: string): Raw {
  return io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': address } })
}

/** Each slot is its own volunteer at its own address; an attacker keeps its address across sockets and rejoins. */
export function addressOf(slot: number, hostile: boolean): string {
  return `10.${hostile ? 66 : 0}.0.${slot + 1}`
}

/** One request with an ack and a deadline; a timeout or a dropped socket answers ERR_TIMEOUT. */
async function ask<T extends ClientMessageType>(s: Raw, type: T, msg: Msg<T>, ms = 5000): Promise<Reply<T>> {
  const timed = s.timeout(ms) as unknown as { emitWithAck(t: T, m: Msg<T>): Promise<Reply<T>> }
  return timed.emitWithAck(type, msg).catch((e: Error) => ({ ok: false, code: 'ERR_TIMEOUT', reason: e.message }) as const)
}

/** What one attacker got from the coordinator: codes by count, and when (and by what) it was first caught. */
export class Watch {
  readonly codes: Record<string, number> = {}
  at: number | null = null
  by: string | null = null
  notes: string[] = []
  constructor(readonly caught: readonly string[]) {}

  /** Counts a code; the first caught one marks the attacker caught. */
  see(code: string, t = Date.now()): void {
    this.codes[code] = (this.codes[code] ?? 0) + 1
    if (this.caught.includes(code)) this.mark(code, t)
  }

  mark(by: string, t = Date.now()): void {
    if (this.at !== null) return
    this.at = t
    this.by = by
  }
}

export interface SocketCtx {
  url: string
  jobId: string
  address: string
  watch: Watch
  /** This attacker's index among the attackers, and how many there are. */
  index: number
  attackers: number
}

/** A raw-socket attacker: `ready` once in place; `stop` closes everything it opened (and says when it has). */
export interface Actor {
  ready: Promise<void>
  stop(): void | Promise<void>
}

/** Sockets that say hello and never ready; the attacker is caught once every one was refused or evicted with a code. */
export function idleSockets(total = 250) {
  return (c: SocketCtx): Actor => {
    const n = Math.ceil(total / c.attackers)
    const sockets: Raw[] = []
    let out = 0
    const caught = (code: string) => {
      c.watch.codes[code] = (c.watch.codes[code] ?? 0) + 1
      if (c.watch.caught.includes(code) && ++out === n) c.watch.mark(code)
    }
    const open = async () => {
      const s = rawSocket(c.url, c.address)
      sockets.push(s)
      s.on('evicted', (r) => caught(r.code))
      const r = await ask(s, 'hello', { type: 'hello', jobId: c.jobId, engine: 'cpu', agent: 'idle' })
      if (!r.ok) caught(r.code)
    }
    const ready = (async () => {
      for (let i = 0; i < n; i += 25) await Promise.all(Array.from({ length: Math.min(25, n - i) }, open))
      c.watch.notes.push(`${n} sockets`)
    })()
    return { ready, stop: () => sockets.forEach((s) => s.close()) }
  }
}

/**
 * The flooder, in its own thread (an attacker's CPU is not the coordinator's): joins (hello, not ready), then sends
 * `perSecond` small `stats` messages a second without acks; reports each code the first time it sees it, and at the
 * end the counts. Plain CommonJS, so it runs under tsx and vitest alike.
 */
const FLOOD_THREAD = `
const { parentPort, workerData: w } = require('node:worker_threads')
const { io } = require(w.client)
const s = io(w.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': w.address } })
const codes = {}
let sent = 0, t0 = Date.now(), timer
const see = (code) => { if (!codes[code]) parentPort.postMessage({ code, t: Date.now() }); codes[code] = (codes[code] || 0) + 1 }
s.on('rejected', (r) => { if (!r.ok) see(r.code) })
s.on('evicted', (r) => see(r.code))
s.timeout(5000).emitWithAck('hello', { type: 'hello', jobId: w.jobId, engine: 'cpu', agent: 'flood' }).then((r) => {
  if (!r.ok) see(r.code)
  else {
    t0 = Date.now()
    timer = setInterval(() => {
      const due = Math.floor(((Date.now() - t0) * w.perSecond) / 1000) - sent
      for (let i = 0; i < due && s.connected; i++, sent++) s.emit('stats', w.msg)
    }, 10)
  }
  parentPort.postMessage({ ready: true })
}, (e) => { see('ERR_TIMEOUT'); parentPort.postMessage({ ready: true }) })
parentPort.on('message', () => {
  clearInterval(timer)
  parentPort.postMessage({ sent, ms: Date.now() - t0, codes })
  s.close()
  parentPort.close()
})
`

type FloodReport = { ready: true } | { code: string; t: number } | { sent: number; ms: number; codes: Record<string, number> }

/** Joins (hello, not ready) and sends `perSecond` small `stats` messages a second, without acks, until stopped. */
export function flood(perSecond = 35_000) {
  return (c: SocketCtx): Actor => {
    const msg = { type: 'stats', samplesPerSecond: 1, bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } }
    const client = createRequire(import.meta.url).resolve('socket.io-client')
    const thread = new Worker(FLOOD_THREAD, { eval: true, workerData: { url: c.url, jobId: c.jobId, address: c.address, perSecond, msg, client } })
    let started: () => void = () => {}
    const ready = new Promise<void>((r) => (started = r))
    thread.on('message', (m: FloodReport) => {
      if ('ready' in m) started()
      else if ('code' in m) c.watch.see(m.code, m.t)
      else {
        for (const [code, n] of Object.entries(m.codes)) c.watch.codes[code] = n
        c.watch.notes.push(`${Math.round((m.sent * 1000) / Math.max(1, m.ms))} msg/s sent`)
      }
    })
    thread.on('error', (e) => {
      c.watch.notes.push(`flood thread failed: ${e.message}`)
      started()
    })
    const ended = new Promise<void>((r) => thread.once('exit', () => r()))
    return { ready, stop: () => (thread.postMessage('stop'), ended) }
  }
}

/** Joins and becomes ready, then asks again and again for every logged update of every peer (`after: -1`). */
export function resendStorm() {
  return (c: SocketCtx): Actor => {
    const s = rawSocket(c.url, c.address)
    const peers = new Set<string>()
    let bytes = 0
    let asked = 0
    let most = 0
    let stopped = false
    s.on('peer-joined', ({ worker }) => peers.add(worker))
    s.on('peer-left', ({ worker }) => peers.delete(worker))
    s.on('update', (u) => void (bytes += u.frame.byteLength))
    s.on('evicted', (r) => c.watch.see(r.code))
    const ready = (async () => {
      const hello = await ask(s, 'hello', { type: 'hello', jobId: c.jobId, engine: 'cpu', agent: 'resend' })
      if (!hello.ok) return c.watch.see(hello.code)
      if (hello.app !== 'sgd') throw new Error('the resend attacker plays SGD')
      hello.peers.forEach((p) => peers.add(p))
      const r = await ask(s, 'ready', { type: 'ready' })
      if (!r.ok) return c.watch.see(r.code)
      void (async () => {
        while (!stopped && s.connected) {
          for (const from of [...peers]) {
            const a = await ask(s, 'resend', { type: 'resend', from, after: -1 })
            asked++
            if (a.ok) most = Math.max(most, a.count)
            else c.watch.see(a.code)
          }
          if (!peers.size) await new Promise((res) => setTimeout(res, 50))
        }
      })()
    })()
    return {
      ready,
      stop: () => {
        stopped = true
        if (asked && most <= RESEND_REPLY_CAP) c.watch.mark('capped')
        c.watch.notes.push(`${asked} resends → ${(bytes / 2 ** 20).toFixed(1)} MiB (${Math.round(bytes / Math.max(1, asked * 64))}× the 64-byte asks), at most ${most} updates a reply`)
        s.close()
      },
    }
  }
}

// ── the attacks ───────────────────────────────────────────────────────────────────────────────────────────────────

export interface Attack {
  name: AttackName
  what: string
  /** Attacker sessions: a lying engine (one coalition per scenario), lying data channels, or a staller that rejoins. */
  lie?(): Lie
  peer?(Base: PeerCtor, tensors: readonly TensorSpec[]): PeerCtor
  stall?: true
  /** Raw sockets beside the honest sessions, started before they join or once the job runs. */
  socket?: { when: 'before' | 'running'; start(c: SocketCtx): Actor }
}

export const ATTACKS: Record<AttackName, Attack> = {
  scale: { name: 'scale', what: 'update ×10⁶', lie: () => scaled(1e6) },
  flip: { name: 'flip', what: 'update ×−1000', lie: () => scaled(-1000) },
  huge: { name: 'huge', what: 'every float ±3·10³⁸', lie: () => huge },
  alie: { name: 'alie', what: 'a little is enough, z=1.5, coordinated', lie: () => alie() },
  freeride: { name: 'freeride', what: 'zero updates, shards reported done', lie: () => zero },
  equivocate: { name: 'equivocate', what: 'peers get U ×1000, the coordinator the honest frame', peer: (B, t) => equivocatingPeer(B, t) },
  'p2p-lie': { name: 'p2p-lie', what: 'p2pTo names every peer, nothing is sent', peer: (B) => silentPeer(B) },
  stall: { name: 'stall', what: 'leases a shard, never updates, rejoins after each eviction', stall: true },
  'idle-sockets': { name: 'idle-sockets', what: '250 sockets say hello, never ready', socket: { when: 'before', start: idleSockets() } },
  flood: { name: 'flood', what: '35,000 stats/s in all, no acks', socket: { when: 'running', start: (c) => flood(35_000 / c.attackers)(c) } },
  resend: { name: 'resend', what: 'resend after −1 of every peer, in a loop', socket: { when: 'running', start: resendStorm() } },
}

// ── one scenario ──────────────────────────────────────────────────────────────────────────────────────────────────

export interface ScenarioOptions {
  /** null: the clean run, every slot an honest session (or, `honestOnly`, only the honest slots). */
  attack: AttackName | null
  honestOnly?: boolean
  attackers: number
  /** Slots in all: attacker slots are hostile sessions, or raw sockets beside workers − attackers honest sessions. */
  workers: number
  seed: number
  spec: Partial<CreateJob>
  hyper: Partial<Hyper>
  /** Give up this long after the job started (or after setup, if it never starts). */
  deadlineMs: number
  /** Coordinator options on top of SIM_SERVER. */
  server?: ServerOptions
}

export interface AttackerFigures {
  slot: number
  caught: boolean
  by: string | null
  /** From the attack's start (the job's start for sessions, the sockets' for raw ones) to caught. */
  afterMs: number | null
  codes: Record<string, number>
  note: string
}

export interface Figures {
  attack: string
  model: string
  finished: boolean
  /** The coordinator's final model on the whole test split. */
  accuracy: number
  /** Training time: job start to done (or to the deadline). */
  seconds: number
  /** Samples per second stepped by the honest sessions of the honest slots (the same slots in the clean run). */
  honestSamplesPerSecond: number
  clocksPerSecond: number
  /** GET /api/jobs latency while training, 99th percentile, ms. */
  apiP99Ms: number
  /** console.warn lines the workers wrote (dropped frames, failed requests), counted instead of printed. */
  warnings: number
  attackers: AttackerFigures[]
  /** Honest sessions that ended with a code that counts as caught (quarantined or throttled). */
  falsePositives: string[]
  /** Every error an honest session ended with. */
  honestErrors: string[]
  /** What the job view (GET /api/jobs/:id) says its defences did, where the coordinator has any. */
  defence: unknown
  wallMs: number
}

/**
 * Sizes that keep a 16-worker run to seconds on 2 cores. The MLP sends both kernels as factors (`paths: 'sf'`, so the
 * data-channel attacks have something to bite) under BSP: at s ≥ 1 its 16-worker accuracy moves ±15 points from run
 * to run, too much for a 2-point criterion. mlr is all parameter server, at s = 2.
 */
export const SETUPS = {
  mlp: {
    spec: { data: 'builtin', model: 'mlp:32', trainLimit: 2400 },
    hyper: { staleness: 0, batch: 4, shardSize: 30, epochs: 1, lr: 0.5, paths: 'sf', stallTimeoutMs: 2500, linkTimeoutMs: 2000 },
  },
  // the same job over 6 epochs (~20 s), for the attacks on liveness: each costs the honest workers a detection delay
  // (a stall timeout of 2.5 s at BSP, then one more per back-off; ~1.5 s of missing-update reports before a p2pTo liar
  // is flagged), which a one-epoch job of ~4 s, far shorter than any real one, cannot amortise (×0.66–0.74 there,
  // ×0.75–0.86 at 4 epochs)
  'mlp-long': {
    spec: { data: 'builtin', model: 'mlp:32', trainLimit: 2400 },
    hyper: { staleness: 0, batch: 4, shardSize: 30, epochs: 6, lr: 0.5, paths: 'sf', stallTimeoutMs: 2500, linkTimeoutMs: 2000 },
  },
  mlr: {
    spec: { data: 'builtin', model: 'mlr', trainLimit: 3200 },
    hyper: { staleness: 2, batch: 4, shardSize: 40, epochs: 1, lr: 1, stallTimeoutMs: 2500, linkTimeoutMs: 2000 },
  },
} satisfies Record<string, { spec: Partial<CreateJob>; hyper: Partial<Hyper> }>

/** The four criteria for one attack against the clean run with the same seed. */
export function judge(clean: Figures, f: Figures) {
  const drop = (clean.accuracy - f.accuracy) * 100
  const throughput = clean.honestSamplesPerSecond > 0 ? f.honestSamplesPerSecond / clean.honestSamplesPerSecond : 0
  return {
    /** Accuracy points lost against the clean run. */
    drop,
    throughput,
    accuracyOk: drop <= 2,
    throughputOk: throughput >= 0.8,
    allCaught: f.attackers.length > 0 && f.attackers.every((a) => a.caught),
    noFalsePositives: f.falsePositives.length === 0,
  }
}

/**
 * The coordinator as these scenarios run it: every slot has its own address (X-Forwarded-For, trusted), so per-address
 * caps, bans and back-off see volunteers rather than one loopback host; the hello → ready deadline is scaled down
 * like the stall timeout (its floor is 3 × linkTimeoutMs anyway). Options a coordinator does not know are ignored.
 */
export const SIM_SERVER: ServerOptions = { trustProxy: true, readyTimeoutMs: 6000 }

/** Attacker slots, spread over the join order: 0, 5, 10 of 16. */
export function attackerSlots(workers: number, attackers: number): number[] {
  return Array.from({ length: attackers }, (_, i) => Math.floor((i * workers) / attackers))
}

interface Incarnation {
  slot: number
  hostile: boolean
  session?: Session
  joinAt: number
  /** Past linking: the coordinator has it as ready. */
  readyAt: number | null
  /** Its first shard loaded: the coordinator granted it a lease. */
  leasedAt: number | null
  /** When it ended with an error. */
  endedAt: number | null
  code: string | null
  /** The code was counted (and a staller rejoined). */
  counted: boolean
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** Phases of a session the coordinator has as ready (past linking, not ended). */
const READY_PHASES: readonly string[] = ['waiting', 'training', 'waiting-slowest', 'waiting-updates', 'idle']

/** Records the error a session ended with (its code, or ERROR), once. */
function ended(inc: Incarnation, message: string): void {
  if (inc.code !== null) return
  inc.code = /^(ERR_[A-Z_]+)/.exec(message)?.[1] ?? 'ERROR'
  inc.endedAt = Date.now()
}

/**
 * Sequential GET /api/jobs every 20 ms until stopped; the latencies in ms. A few-second run gives ~150 of them, so the
 * 99th percentile is not simply the worst one (one GC pause).
 */
function probe(url: string) {
  const lat: number[] = []
  let on = true
  const done = (async () => {
    while (on) {
      const t = performance.now()
      const res = await fetch(`${url}/api/jobs`).catch((e: Error) => e)
      if (res instanceof Error) return
      await res.arrayBuffer()
      lat.push(performance.now() - t)
      await sleep(20)
    }
  })()
  return {
    async p99() {
      on = false
      await done
      const s = lat.sort((a, b) => a - b)
      return s.length ? s[Math.ceil(0.99 * s.length) - 1] : NaN
    },
  }
}

/** Runs one job with `attackers` of the `workers` slots hostile (or none) and measures it. */
export async function runScenario(o: ScenarioOptions): Promise<Figures> {
  const warn = console.warn
  let warnings = 0
  console.warn = () => void warnings++
  try {
    return { ...(await scenario(o)), warnings }
  } finally {
    console.warn = warn
  }
}

async function scenario(o: ScenarioOptions): Promise<Omit<Figures, 'warnings'>> {
  const wall = Date.now()
  const attack = o.attack ? ATTACKS[o.attack] : null
  const caught = o.attack ? CAUGHT[o.attack] : { codes: [] }
  const bad = attackerSlots(o.workers, o.attackers)
  const skip = attack?.socket !== undefined || (attack === null && o.honestOnly === true)
  const sessionsAtStart = skip ? o.workers - o.attackers : o.workers
  const lie = attack?.lie?.()
  const incs: Incarnation[] = []
  const leases: number[] = []
  const watches = new Map(bad.map((s) => [s, new Watch(caught.codes)]))
  const backend = (i: number): Backend => {
    const inc = incs[i]
    if (inc.hostile && lie) return lyingBackend(lie)
    if (inc.hostile && attack?.stall) return watchedBackend({ lease: () => (inc.leasedAt ??= Date.now()) }, true)
    return watchedBackend({ lease: () => void leases.push(Date.now()) })
  }
  const g: NodeGrid = await startNodeGrid(0, { ...o.hyper, minWorkers: sessionsAtStart }, o.spec, { seed: o.seed, latencyMs: [0, 5] }, backend, {
    peerFor: (i, P) => (incs[i].hostile && attack?.peer ? attack.peer(P, g.job.plan.tensors) : P),
    headersFor: (i) => ({ 'x-forwarded-for': addressOf(incs[i].slot, incs[i].hostile) }),
    server: { ...SIM_SERVER, ...o.server },
  })
  const { job } = g
  const join = (slot: number) => {
    const inc: Incarnation = { slot, hostile: attack !== null && bad.includes(slot), joinAt: Date.now(), readyAt: null, leasedAt: null, endedAt: null, code: null, counted: false }
    incs.push(inc)
    inc.session = g.add()
    g.runs[g.runs.length - 1].catch((e: Error) => ended(inc, e.message))
  }
  const actors: Actor[] = []
  let attackStart = Date.now()
  const startActors = async () => {
    attackStart = Date.now()
    for (const [index, slot] of bad.entries()) actors.push(attack!.socket!.start({ url: g.srv.url, jobId: job.id, address: addressOf(slot, true), watch: watches.get(slot)!, index, attackers: bad.length }))
    await Promise.race([Promise.all(actors.map((a) => a.ready)), sleep(o.deadlineMs)])
  }
  if (attack?.socket?.when === 'before') await startActors()
  for (let slot = 0; slot < o.workers; slot++) if (!(skip && bad.includes(slot))) join(slot)
  const setupEnd = Date.now() + o.deadlineMs
  while (job.state === 'pending' && Date.now() < setupEnd) await sleep(20)
  const api = probe(g.srv.url)
  if (attack?.socket?.when === 'running') await startActors()
  if (!attack?.socket) attackStart = job.startedAt ?? Date.now()
  const end = (job.startedAt ?? Date.now()) + o.deadlineMs
  let polled = 0
  while (job.state !== 'done' && Date.now() < end) {
    for (const inc of incs) {
      const err = inc.session?.status.error
      if (inc.readyAt === null && inc.session && READY_PHASES.includes(inc.session.status.phase)) inc.readyAt = Date.now()
      if (err) ended(inc, err)
      if (inc.code !== null && inc.hostile && !inc.counted) {
        inc.counted = true
        watches.get(inc.slot)!.see(inc.code, inc.endedAt ?? Date.now())
        if (attack?.stall) join(inc.slot)
      }
      if (inc.hostile && attack?.stall && inc.joinAt > attackStart && stalledForLease(inc, leases)) watches.get(inc.slot)!.mark('backoff', inc.readyAt! + BACKOFF_SEEN_MS)
    }
    if (caught.or === 'flagged' && Date.now() - polled > 500) {
      polled = Date.now()
      const view = (await (await fetch(`${g.srv.url}/api/jobs/${job.id}`)).json()) as { defence?: { flagged?: string[] } }
      for (const inc of incs) if (inc.hostile && view.defence?.flagged?.includes(inc.session!.status.workerId)) watches.get(inc.slot)!.mark('flagged')
    }
    await sleep(20)
  }
  const stop = Date.now()
  // A job shorter than the edge's deadlines ends before they fire: socket attackers are watched until the ready
  // deadline (and 2 s) has passed since the attack began, never past the run's deadline.
  const grace = Math.min(end, attackStart + (SIM_SERVER.readyTimeoutMs ?? 0) + 2000)
  while (actors.length && [...watches.values()].some((w) => w.at === null) && Date.now() < grace) await sleep(50)
  await Promise.race([Promise.all(actors.map((a) => a.stop())), sleep(5000)])
  const apiP99Ms = await api.p99()
  for (const inc of incs) if (inc.session?.status.error) ended(inc, inc.session.status.error)
  const finished = job.state === 'done'
  const view = (await (await fetch(`${g.srv.url}/api/jobs/${job.id}`)).json()) as { defence?: unknown }
  if (finished) await Promise.race([job.settled(), sleep(10_000)])
  const accuracy = finished && job.curve.last ? job.curve.last.testAccuracy : evaluate(job.plan, job.replica.params, job.data.test.x, job.data.test.y, job.data.test.n).accuracy
  const seconds = job.startedAt === null ? 0 : ((job.finishedAt ?? stop) - job.startedAt) / 1000
  const honest = incs.filter((i) => !i.hostile)
  const samples = honest.filter((i) => !bad.includes(i.slot)).reduce((n, i) => n + (i.session?.status.samples ?? 0), 0)
  const all = [...QUARANTINED, ...THROTTLED, ...caught.codes] as string[]
  const figures: Omit<Figures, 'warnings'> = {
    attack: o.attack ?? (skip ? 'clean, honest only' : 'clean'),
    model: job.plan.name,
    finished,
    accuracy,
    seconds,
    honestSamplesPerSecond: seconds > 0 ? samples / seconds : 0,
    clocksPerSecond: seconds > 0 ? job.ssp.min / seconds : 0,
    apiP99Ms,
    attackers: attack
      ? bad.map((slot) => {
          const w = watches.get(slot)!
          return { slot, caught: w.at !== null, by: w.by, afterMs: w.at === null ? null : w.at - attackStart, codes: w.codes, note: w.notes.join('; ') }
        })
      : [],
    falsePositives: honest.filter((i) => i.code !== null && all.includes(i.code)).map((i) => `slot ${i.slot}: ${i.code}`),
    honestErrors: honest.filter((i) => i.code !== null).map((i) => `slot ${i.slot}: ${i.code}`),
    defence: view.defence ?? null,
    wallMs: 0,
  }
  await g.close()
  figures.wallMs = Date.now() - wall
  return figures
}

/**
 * Back-off seen: a rejoined staller, once ready, waited BACKOFF_SEEN_MS for a lease while honest workers got new ones
 * (an undefended coordinator leases to a ready worker at once; one that has none free answers all alike).
 */
function stalledForLease(inc: Incarnation, leases: readonly number[]): boolean {
  if (inc.readyAt === null) return false
  const until = inc.leasedAt ?? inc.endedAt ?? Date.now()
  return until - inc.readyAt >= BACKOFF_SEEN_MS && leases.some((t) => t > inc.readyAt! + 500 && t < until)
}

/** The clean run an attack is compared with: the same sessions, so each has the same share of this process's CPU. */
export function baselineOf(name: AttackName): 'clean' | 'honest-only' {
  return ATTACKS[name].socket ? 'honest-only' : 'clean'
}
