// The lightweight protocol clients of the scale bench, in their own process: N socket.io workers that each do an
// honest step of the job's model (CPU, model/network.ts) per clock, paced at a fixed rate under the SSP bound.
// Usage: node --import tsx bench/scale/clients.ts URL JOB N SECONDS RATE  → JSON lines on stdout: `joined` once its N
// workers are in, then (after a `go` line on stdin, so that every client process measures the same window)
// `measuring`, then `done` with its figures and, per clock, when its last update was sent and when its last worker
// heard the min pass it (absolute ms), for run.ts to merge across processes.
import { performance } from 'node:perf_hooks'
import { io, type Socket } from 'socket.io-client'
import { clipParts } from '../../model/clip.ts'
import { trainStep } from '../../model/network.ts'
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { arenaFromBytes } from '../../model/params.ts'
import type { JobInfo } from '../../protocol/job.ts'
import { encodeFrame } from '../../protocol/frames.ts'
import { decodeShard } from '../../protocol/shard.ts'

const [url, jobId, nArg, secondsArg, rateArg] = process.argv.slice(2)
const N = Number(nArg)
const SECONDS = Number(secondsArg)
const PERIOD_MS = 1000 / Number(rateArg)
/** One update in this many asks for an ack, as in client/train/loop.ts. */
const ACK_EVERY = 8
/** Hellos in flight at once while the grid fills (the job caps tabs still linking). */
const RAMP = 32

interface Reply {
  ok: boolean
  code?: string
  reason?: string
  [k: string]: unknown
}
const ask = (s: Socket, event: string, msg: unknown): Promise<Reply> => s.timeout(30_000).emitWithAck(event, msg)

/** Per clock c: when the last update of c was sent, and how many workers have heard that the min passed c. */
const lastSent = new Map<number, number>()
const heard = new Map<number, { n: number; at: number }>()
let updates = 0
const errors = new Map<string, number>()
let measuring = false

class Worker {
  s!: Socket
  min = 0
  private plan!: ModelPlan
  private job!: JobInfo
  private params!: Float32Array
  private paths: Array<'sf' | 'ps'> = []
  private wake: () => void = () => {}
  stopped = false

  async join(): Promise<void> {
    this.s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false })
    // the min moves by a clock event, or by the view an aggregate carries
    this.s.on('aggregate', (a: { view?: { min: number } }) => a.view && this.minPassed(a.view))
    this.s.on('clock', (v: { min: number }) => this.minPassed(v))
    this.s.on('paths', (p: { paths: Array<'sf' | 'ps'> }) => (this.paths = p.paths))
    this.s.on('rejected', (r: { code: string }) => errors.set(r.code, (errors.get(r.code) ?? 0) + 1))
    const hello = await ask(this.s, 'hello', { type: 'hello', engine: 'cpu', jobId, agent: 'tabgrid scale bench' })
    if (!hello.ok) throw new Error(`hello: ${hello.code} ${hello.reason}`)
    this.job = hello.job as JobInfo
    this.paths = (hello.paths as { paths: Array<'sf' | 'ps'> }).paths
    this.plan = planModel(this.job.model, this.job.dataset)
    const ready = await ask(this.s, 'ready', { type: 'ready' })
    if (!ready.ok) throw new Error(`ready: ${ready.code} ${ready.reason}`)
    this.params = arenaFromBytes(this.plan, new Uint8Array(ready.model as ArrayBuffer))
    this.min = (ready.view as { min: number }).min
  }

  /** Leases and trains until stopped: one update per PERIOD_MS at most, never past the SSP bound. */
  async run(): Promise<void> {
    const s = this.job.hyper.staleness
    const B = this.job.hyper.batch
    let next = performance.now() + Math.random() * PERIOD_MS
    let chain = -1
    let first = true
    let unacked = 0
    while (!this.stopped) {
      const r = await ask(this.s, 'lease', { type: 'lease' })
      const lease = r.lease as { id: string; n: number; clock: number; lr: number; url: string } | null
      if (!lease) {
        await this.nap(200)
        continue
      }
      const shard = decodeShard(await (await fetch(new URL(lease.url, url))).arrayBuffer(), this.plan.inputSize, this.plan.classes)
      let clock = lease.clock
      for (let row0 = 0; row0 < shard.n && !this.stopped; row0 += B) {
        while (!this.stopped && (performance.now() < next || clock > this.min + s)) await this.nap(Math.max(1, next - performance.now()))
        if (this.stopped) return
        const rows = Math.min(B, shard.n - row0)
        const step = trainStep(this.plan, this.params, shard.x, shard.y, row0, rows, -lease.lr / rows, this.paths)
        const { parts } = clipParts(this.plan.tensors, step.parts, rows, lease.lr, this.job.bounds)
        const frame = encodeFrame({ clock, prev: chain, rows, parts })
        const sf = parts.some((p) => p.path === 'sf')
        const at = performance.timeOrigin + performance.now()
        const msg = { type: 'update', loss: step.loss, correct: step.correct, p2pTo: [], frame, view: { vc: {}, psUpTo: 0, corrections: 0 } }
        // as the tabs do (client/train/loop.ts): the first update and one in ACK_EVERY ask for an answer, the others
        // are answered only when refused (a `rejected` event)
        if (first || ++unacked >= ACK_EVERY) {
          unacked = 0
          const ack = ask(this.s, 'update', msg)
          // a first update may be re-based to the min: its answer says the clock it counts at
          const u = first ? await ack : null
          if (u && !u.ok) throw new Error(`update: ${u.code} ${u.reason}`)
          if (u) clock = u.clock as number
          if (!first) void ack.then((a) => a.ok || errors.set(a.code!, (errors.get(a.code!) ?? 0) + 1))
        } else this.s.emit('update', msg)
        first = false
        if (measuring) lastSent.set(clock, Math.max(lastSent.get(clock) ?? 0, at))
        updates++
        if (sf) chain = clock
        clock++
        next = Math.max(next + PERIOD_MS, performance.now() - PERIOD_MS)
      }
      if (this.stopped) return
      const d = await ask(this.s, 'shard-done', { type: 'shard-done', lease: lease.id })
      if (!d.ok) errors.set(d.code!, (errors.get(d.code!) ?? 0) + 1)
    }
  }

  /** The min passed `v.min`: counted for the lag of every clock below it. */
  private minPassed(v: { min: number }): void {
    const now = performance.timeOrigin + performance.now()
    for (let c = this.min; c < v.min; c++) {
      const h = heard.get(c) ?? { n: 0, at: 0 }
      h.n++
      h.at = Math.max(h.at, now)
      heard.set(c, h)
    }
    this.min = Math.max(this.min, v.min)
    this.wake()
  }

  private nap(ms: number): Promise<void> {
    return new Promise((r) => {
      const t = setTimeout(r, ms)
      this.wake = () => (clearTimeout(t), r())
    })
  }
}

const workers = Array.from({ length: N }, () => new Worker())
const t0 = performance.now()
for (let i = 0; i < N; i += RAMP) await Promise.all(workers.slice(i, i + RAMP).map((w) => w.join()))
const joinedMs = performance.now() - t0
process.stdout.write(JSON.stringify({ event: 'joined' }) + '\n')
await new Promise<void>((r) => process.stdin.once('data', () => r()))
const runs = workers.map((w) => w.run().catch((e: Error) => errors.set(e.message.slice(0, 60), (errors.get(e.message.slice(0, 60)) ?? 0) + 1)))
// settle: every worker past its first (possibly re-based) update
await new Promise((r) => setTimeout(r, 3000))
process.stdout.write(JSON.stringify({ event: 'measuring' }) + '\n')
measuring = true
const minAt = () => Math.min(...workers.map((w) => w.min))
const fromMin = minAt()
const fromUpdates = updates
const start = performance.now()
await new Promise((r) => setTimeout(r, SECONDS * 1000))
const toMin = minAt()
const secs = (performance.now() - start) / 1000
measuring = false
for (const w of workers) w.stopped = true
const clocks: Record<number, { sent: number; heard: number; n: number }> = {}
for (const [c, h] of heard) {
  const sent = lastSent.get(c)
  if (sent !== undefined && c >= fromMin && c < toMin) clocks[c] = { sent, heard: h.at, n: h.n }
}
process.stdout.write(
  JSON.stringify({
    event: 'done',
    workers: N,
    joinSeconds: joinedMs / 1000,
    seconds: secs,
    fromMin,
    toMin,
    updatesPerSecond: (updates - fromUpdates) / secs,
    clocks,
    errors: Object.fromEntries(errors),
  }) + '\n',
)
// requests still in flight are refused by the disconnect: nothing to report of them
process.on('unhandledRejection', () => {})
for (const w of workers) w.s.disconnect()
await Promise.race([Promise.all(runs), new Promise((r) => setTimeout(r, 2000))])
process.exit(0)
