// Honest workers that speak the socket protocol in this process, cheaply: their steps are computed on the
// coordinator's own replica (the coordinator runs in the same process), so what limits them is the coordinator.
import { io, type Socket } from 'socket.io-client'
import type { JobCore } from '../../coordinator/core/job.ts'
import { workerUpdate } from './tiny-data.ts'

export type Reply = { ok: boolean; code?: string; reason?: string; [k: string]: unknown }

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

/** A socket.io connection from `address` (the coordinator must trust X-Forwarded-For to see it). */
export function connect(url: string, address: string): Promise<Socket> {
  const s = io(url, { transports: ['websocket'], forceNew: true, reconnection: false, extraHeaders: { 'x-forwarded-for': address } })
  return new Promise((resolve, fail) => {
    s.once('connect', () => resolve(s))
    s.once('connect_error', (e) => {
      s.close()
      fail(e)
    })
  })
}

export const ask = (s: Socket, event: string, msg: unknown): Promise<Reply> => s.timeout(5000).emitWithAck(event, msg)

/**
 * An honest step of `worker` on the coordinator's replica, stating the view it was computed from. Under BSP
 * (staleness 0) a worker starts clock c once the min clock is c, when the replica holds exactly every update of
 * clocks < c (frontier c − 1) and every server aggregate below c: spot re-computation rebuilds the same model.
 * A joiner's first update keeps the clock it was leased at and is re-based by the coordinator.
 */
export function honestUpdate(job: JobCore, worker: string, rows: number) {
  const clock = job.ssp.clockOf(worker)!
  const F = job.replica.frontier
  // a joiner's first update counts at the min clock if that has moved past its stamp (SspTable's probation)
  const at = job.ssp.lastOf(worker) === -1 ? Math.max(clock, job.ssp.min) : clock
  if (job.info.hyper.staleness !== 0 || at !== F + 1) throw new Error(`an honest step needs BSP and the replica at clock − 1 (clock ${at}, replica ${F})`)
  const { msg } = workerUpdate(job, worker, clock, job.ssp.chainOf(worker), rows)
  const vc = Object.fromEntries([...job.members.keys()].map((p) => [p, F]))
  return { ...msg, view: { vc, psUpTo: F + 1, corrections: job.corrections.length } }
}

/**
 * One honest worker of a BSP job: hello, ready, then shard after shard, an update per batch as soon as the min clock
 * lets it. `pause()` holds it between updates (nothing of it in flight), `stop()` ends it and rethrows what broke it.
 *
 * @example
 * const w = new HonestWorker(srv.url, job, '192.168.0.1', 4)
 * await w.start()
 * await w.stop()
 */
export class HonestWorker {
  id = ''
  updates = 0
  private s: Socket | undefined
  private paused = false
  private idle = true
  private stopped = false
  private failure: Error | null = null
  private wake: () => void = () => {}
  private done: Promise<void> = Promise.resolve()

  constructor(
    private readonly url: string,
    private readonly job: JobCore,
    private readonly address: string,
    private readonly batch: number,
  ) {}

  async start(): Promise<void> {
    const s = (this.s = await connect(this.url, this.address))
    const r = await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: this.job.id })
    if (!r.ok) throw new Error(`honest hello refused: ${r.code} ${r.reason}`)
    this.id = r.workerId as string
    // the min moved: a clock event, or an aggregate carrying the view
    s.on('clock', () => this.wake())
    s.on('aggregate', () => this.wake())
    s.on('evicted', (why: Reply) => (this.failure ??= new Error(`honest worker evicted: ${why.code} ${why.reason}`)))
    const ready = await ask(s, 'ready', { type: 'ready' })
    if (!ready.ok) throw new Error(`honest ready refused: ${ready.code} ${ready.reason}`)
    this.done = this.loop().catch((e: Error) => void (this.failure ??= e))
  }

  private async loop(): Promise<void> {
    const s = this.s!
    while (!this.stopped) {
      if (this.paused) {
        await this.nap()
        continue
      }
      this.idle = false
      const l = (await ask(s, 'lease', { type: 'lease' })).lease as { id: string; n: number } | null
      if (!l) {
        this.idle = true
        await sleep(20)
        continue
      }
      for (let rows = 0; rows < l.n; ) {
        if (this.stopped) return
        if (this.paused || !this.job.ssp.mayStart(this.job.ssp.clockOf(this.id)!)) {
          await this.nap()
          continue
        }
        this.idle = false
        const b = Math.min(this.batch, l.n - rows)
        const u = await ask(s, 'update', honestUpdate(this.job, this.id, b))
        if (!u.ok) throw new Error(`honest update refused: ${u.code} ${u.reason}`)
        this.updates++
        rows += b
      }
      const d = await ask(s, 'shard-done', { type: 'shard-done', lease: l.id })
      if (!d.ok) throw new Error(`honest shard-done refused: ${d.code} ${d.reason}`)
    }
  }

  /** Waits, with nothing in flight, for the coordinator's `clock` event (the min moved), a resume or a short poll. */
  private nap(): Promise<void> {
    this.idle = true
    return new Promise<void>((r) => {
      const t = setTimeout(r, 20)
      this.wake = () => (clearTimeout(t), r())
    })
  }

  /** Holds the worker once its update on the way is answered. */
  async pause(): Promise<void> {
    this.paused = true
    while (!this.idle && !this.failure) await sleep(2)
    this.check()
  }

  resume(): void {
    this.paused = false
    this.wake()
  }

  async stop(): Promise<void> {
    this.stopped = true
    this.wake()
    await this.done
    this.s?.disconnect()
    this.check()
  }

  /** Throws what broke the worker, if anything did. */
  check(): void {
    if (this.failure) throw this.failure
  }
}
