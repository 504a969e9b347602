// Issue 6, "Done when": a stats flood from one socket leaves the API's p99 under 200 ms and honest progress ≥ 80 %.
// Four honest workers train one job (BSP, one seed) on a real coordinator; their steps are computed on its replica in
// this process, so their pace is what the coordinator gives them. Two-second windows without a flood and with one
// take turns: one socket that joined the job blasts `stats` as fast as a thread can send (a new socket each turn), or
// one keeps `stats` at about the most its budget lets it send without being closed. Each flooded window's clocks per
// second are compared with the clean windows on either side, rather than a clean run with a flooded run after it, so
// that the machine's other load and the process warming up weigh on both alike; GET /api/jobs latency is collected
// per kind of window. The figures are printed.
import { createRequire } from 'node:module'
import { Worker } from 'node:worker_threads'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import type { RateLimits } from '../../coordinator/edge/socket-rate.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { HonestWorker, sleep } from '../helpers/socket-worker.ts'

/**
 * The attacker, in its own thread (its CPU is not the coordinator's). `open`: a new socket from its address says
 * hello to the job; `go`: `first` stats at once, then `perSecond` a second, without acks. With `calmMs`, a refusal
 * makes it stop for 200 ms and then send at `calmRate` for that long: it stays about at its budget, refused now and
 * then but not often enough to be closed. `pause`: stops sending and reports what it sent, how many sockets it opened,
 * whether the last is still open, and every code it was told.
 */
const FLOOD_THREAD = `
const { parentPort, workerData: w } = require('node:worker_threads')
const { io } = require(w.client)
const report = { sent: 0, sockets: 0, connected: false, codes: {} }
let s = null, timer = null, pausedUntil = 0, calmUntil = 0
const see = (code) => { report.codes[code] = (report.codes[code] || 0) + 1 }
const quiet = () => { clearInterval(timer); timer = null }
function open() {
  report.sockets++
  // each socket from its own address: the per-address flood back-off would refuse a second one from the same (tested
  // in edge.test.ts); this measures what one socket can do
  const sock = (s = io(w.url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': w.address + report.sockets } }))
  sock.on('rejected', (r) => { see(r.code); if (w.calmMs && Date.now() > calmUntil) (pausedUntil = Date.now() + 200), (calmUntil = pausedUntil + w.calmMs) })
  sock.on('evicted', (r) => see('evicted ' + r.code))
  sock.on('disconnect', () => { see('disconnected'); if (s === sock) quiet() })
  const ready = () => parentPort.postMessage({ ready: true })
  sock.timeout(5000).emitWithAck('hello', { type: 'hello', jobId: w.jobId, engine: 'cpu', agent: 'flood' }).then((r) => (r.ok || see(r.code), ready()), () => (see('ERR_TIMEOUT'), ready()))
}
function go() {
  let last = Date.now(), owed = w.first
  timer = setInterval(() => {
    const t = Date.now()
    owed += ((t - last) * (t < calmUntil ? w.calmRate : w.perSecond)) / 1000
    last = t
    if (t < pausedUntil) owed = 0
    for (; owed >= 1 && s.connected; owed--, report.sent++) s.emit('stats', w.msg)
  }, 5)
}
parentPort.on('message', (m) => {
  if (m === 'open') return open()
  if (m === 'go') return go()
  quiet()
  report.connected = !!s && s.connected
  parentPort.postMessage({ report })
  if (m === 'stop') (s && s.close(), parentPort.close())
})
`

interface FloodReport {
  sent: number
  sockets: number
  connected: boolean
  codes: Record<string, number>
}

interface Attack {
  perSecond: number
  first: number
  calmMs: number
  calmRate: number
}

/** One flooding thread, driven a window at a time. */
class Flooder {
  private readonly thread: Worker
  private readonly waiting: Array<{ resolve: (m: { ready?: true; report?: FloodReport }) => void; fail: (e: Error) => void }> = []
  private failure: Error | null = null

  constructor(url: string, jobId: string, attack: Attack) {
    const msg = { type: 'stats', samplesPerSecond: 1, bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } }
    const client = createRequire(import.meta.url).resolve('socket.io-client')
    this.thread = new Worker(FLOOD_THREAD, { eval: true, workerData: { url, jobId, address: '10.66.0.', msg, client, ...attack } })
    this.thread.on('message', (m) => this.waiting.shift()?.resolve(m))
    this.thread.on('error', (e) => {
      this.failure = e
      for (const w of this.waiting.splice(0)) w.fail(e)
    })
  }

  private ask<T>(what: string): Promise<T> {
    if (this.failure) return Promise.reject(this.failure)
    return new Promise((resolve, fail) => {
      this.waiting.push({ resolve: resolve as (m: unknown) => void, fail })
      this.thread.postMessage(what)
    })
  }

  /** A new socket, joined to the job (hello, not ready). */
  open(): Promise<unknown> {
    return this.ask('open')
  }

  go(): void {
    this.thread.postMessage('go')
  }

  async pause(): Promise<FloodReport> {
    return (await this.ask<{ report: FloodReport }>('pause')).report
  }

  async stop(): Promise<FloodReport> {
    return (await this.ask<{ report: FloodReport }>('stop')).report
  }

  terminate(): Promise<number> {
    return this.thread.terminate()
  }
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(0.99 * xs.length) - 1]
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length

/** Honest workers; they compute on the coordinator's replica, so their pace is what the coordinator gives them. */
const WORKERS = 4
const BATCH = 4
const WINDOW_MS = 2000
/** Turns of clean → blast → clean → sustained (and a last clean window). */
const ROUNDS = 4

let srv: RunningServer | undefined
const honest: HonestWorker[] = []
const flooders: Flooder[] = []
async function cleanUp(): Promise<void> {
  for (const f of flooders.splice(0)) await f.terminate()
  for (const h of honest.splice(0)) await h.stop().catch(() => {})
  await srv?.close()
  srv = undefined
}
afterAll(cleanUp)

describe('a stats flood from one socket', () => {
  // Retried once: on a 2-core machine that other work loads now and then, a run's windows can be a third off each other.
  it('is refused (and cut off) while the API answers in under 200 ms at p99 and honest workers keep ≥ 80 % of their pace', { timeout: 120_000, retry: 1 }, async () => {
    await cleanUp()
    const s = (srv = await startServer({ port: 0, log: pino({ level: 'silent' }), trustProxy: true }))
    const job = await s.store.create({
      data: 'builtin',
      model: 'mlr',
      // a small rate on the whole set: the model keeps learning while the windows are measured
      hyper: { minWorkers: WORKERS, batch: BATCH, shardSize: 40, epochs: 100, staleness: 0, lr: 0.05 } as never,
    })
    for (let i = 0; i < WORKERS; i++) honest.push(new HonestWorker(s.url, job, `10.0.0.${i + 1}`, BATCH))
    await Promise.all(honest.map((h) => h.start()))
    const rate: RateLimits = s.edge.settings.rate
    // as fast as a thread can send: the burst, then refusals, then closed; a new socket every turn
    const blast = new Flooder(s.url, job.id, { perSecond: 35_000, first: 0, calmMs: 0, calmRate: 0 })
    // its saved-up burst at once, then just over the budget until refused, then just under it for longer than the
    // close threshold's window: about the most one socket can make the coordinator handle for as long as it likes
    const budget = rate.tokensPerSecond
    const sustained = new Flooder(s.url, job.id, { perSecond: 1.02 * budget, first: rate.burst, calmMs: rate.windowMs + 1000, calmRate: 0.98 * budget })
    flooders.push(blast, sustained)
    await sustained.open()

    // GET /api/jobs in turn, as an operator's console polls it; each latency goes to the window it started in
    type Phase = 'warm-up' | 'clean' | 'blast' | 'sustained'
    let phase: Phase = 'warm-up'
    const latency: Record<Phase, number[]> = { 'warm-up': [], clean: [], blast: [], sustained: [] }
    let probing = true
    const probing$ = (async () => {
      while (probing) {
        const p = phase
        const t = performance.now()
        const res = await fetch(`${s.url}/api/jobs`).catch(() => null)
        if (!res) return // the server closed (a failed attempt)
        await res.arrayBuffer()
        latency[p].push(performance.now() - t)
        await sleep(10)
      }
    })()
    const end = Date.now() + 30_000
    while ((job.state !== 'running' || job.ssp.min < 300) && Date.now() < end) await sleep(20)
    expect(job.state).toBe('running')

    // clocks per second of each window, in order
    const pace: Array<{ phase: Phase; clocksPerSecond: number }> = []
    const window = async (p: Phase, before?: () => Promise<unknown>, start?: () => void, after?: () => Promise<unknown>) => {
      await before?.()
      phase = p
      const c0 = job.ssp.min
      const t0 = performance.now()
      start?.()
      await sleep(WINDOW_MS)
      pace.push({ phase: p, clocksPerSecond: ((job.ssp.min - c0) * 1000) / (performance.now() - t0) })
      phase = 'warm-up'
      await after?.()
    }
    let connected = true
    for (let r = 0; r < ROUNDS; r++) {
      await window('clean')
      await window('blast', () => blast.open(), () => blast.go(), () => blast.pause())
      await window('clean')
      // a sustained socket closed for a refusal episode over the threshold is replaced by a new one
      const reopen = async () => connected || (await sustained.open())
      await window('sustained', reopen, () => sustained.go(), async () => (connected = (await sustained.pause()).connected))
    }
    await window('clean')
    probing = false
    await probing$
    const b = await blast.stop()
    const v = await sustained.stop()
    const edge = s.store.edgeCounters(job.id)
    for (const h of honest.splice(0)) await h.stop()

    // Each flooded window against the clean ones on either side of it, and the median of those ratios over the
    // rounds: the machine's other load moves single windows by a third at times, a flood's cost shows in every one.
    const ratios = (attack: Phase) =>
      pace.flatMap((w, i) => (w.phase === attack ? [w.clocksPerSecond / mean([pace[i - 1].clocksPerSecond, pace[i + 1].clocksPerSecond])] : []))
    const median = (xs: number[]) => {
      const s = [...xs].sort((a, b) => a - b)
      return (s[(s.length - 1) >> 1] + s[s.length >> 1]) / 2
    }
    const of = (p: Phase) => pace.filter((w) => w.phase === p).map((w) => Math.round(w.clocksPerSecond))
    const figures = {
      clocksPerSecond: { clean: of('clean'), blast: of('blast'), sustained: of('sustained') },
      ratios: { blast: ratios('blast').map((r) => +r.toFixed(2)), sustained: ratios('sustained').map((r) => +r.toFixed(2)) },
      ratio: { blast: median(ratios('blast')), sustained: median(ratios('sustained')) },
      p99Ms: { clean: p99(latency.clean), blast: p99(latency.blast), sustained: p99(latency.sustained) },
      probes: { clean: latency.clean.length, blast: latency.blast.length, sustained: latency.sustained.length },
      blast: b,
      sustained: v,
      edge: { rateLimited: edge.rateLimited, floodClosed: edge.floodClosed, badPackets: edge.badPackets },
    }
    console.log(JSON.stringify(figures))
    expect(latency.blast.length).toBeGreaterThan(50)
    expect(latency.sustained.length).toBeGreaterThan(50)
    // every blasting socket was refused and closed (told why, unless a loaded machine let its packet rate trip first)
    expect(b.sockets).toBe(ROUNDS)
    expect(b.codes.disconnected).toBe(ROUNDS)
    expect(b.codes.ERR_RATE_LIMITED).toBeGreaterThanOrEqual(rate.rejectionsToClose)
    expect(b.codes['evicted ERR_RATE_LIMITED']).toBeGreaterThanOrEqual(1)
    // the sustained one was refused, and sent about its budget (rate × time) for as long as it was let
    expect(v.codes.ERR_RATE_LIMITED).toBeGreaterThan(0)
    if (v.sockets === 1) expect(v.sent).toBeGreaterThan(0.75 * ROUNDS * (WINDOW_MS / 1000) * rate.tokensPerSecond)
    expect(edge.floodClosed + edge.badPackets).toBe(ROUNDS + (v.sockets - 1) + (v.connected ? 0 : 1))
    for (const attack of ['blast', 'sustained'] as const) {
      expect(figures.p99Ms[attack], `${attack}: GET /api/jobs p99, ms`).toBeLessThan(200)
      expect(figures.ratio[attack], `${attack}: honest clocks per second, flooded / clean`).toBeGreaterThanOrEqual(0.8)
    }
  })
})
