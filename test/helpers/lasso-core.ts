// In-process Lasso workers on a LassoJob (no sockets): each takes its events in order, as a tab does, and computes
// with apps/lasso/step.ts on a float32 residual, so the core's rounds, leases and checks run as on the grid.
import { coordinateDeltas } from '../../apps/lasso/step.ts'
import { f32, u32 } from '../../protocol/bytes.ts'
import type { RegressionData } from '../../apps/lasso/types.ts'
import { LassoJob, type LassoJobOptions } from '../../coordinator/core/lasso-job.ts'
import type { Outbox } from '../../coordinator/core/job.ts'
import type { Rejection } from '../../protocol/errors.ts'
import { LassoHyperSchema, type LassoHyper } from '../../protocol/lasso.ts'
import type { ServerEvents } from '../../protocol/messages.ts'

type Event = { [E in keyof ServerEvents]: { event: E; msg: Parameters<ServerEvents[E]>[0] } }[keyof ServerEvents]

/** One simulated worker: its queue of pushed events, its residual, its columns; `lie` bends its answers. */
export class CoreWorker {
  readonly queue: Event[] = []
  r = new Float32Array(0)
  view = -1
  cols = new Map<number, Float32Array>()
  evicted: Rejection | null = null
  refusals: Rejection[] = []
  done = false
  lie?: (deltas: Float32Array, round: number) => Float32Array

  constructor(
    readonly id: string,
    readonly grid: CoreGrid,
  ) {}

  /** Handles every queued event (tasks answered at once); returns whether it did anything. */
  step(): boolean {
    const e = this.queue.shift()
    if (!e || this.evicted) return false
    const job = this.grid.job
    const n = job.data.n
    switch (e.event) {
      case 'lasso-blocks': {
        const fresh = e.msg.blocks.filter((b) => !this.cols.has(b.block))
        const keep = new Set(e.msg.blocks.map((b) => b.block))
        for (const b of [...this.cols.keys()]) if (!keep.has(b)) this.cols.delete(b)
        for (const b of fresh) this.cols.set(b.block, job.blockBytes(b.block)!.slice())
        this.answer(job.hold(this.id, { type: 'lasso-hold', blocks: fresh.map((b) => b.block), version: e.msg.version }))
        break
      }
      case 'lasso-task': {
        const picks = u32(e.msg.picks, 'picks')
        const beta = f32(e.msg.beta, 'beta')
        const deltas = new Float32Array(picks.length)
        picks.forEach((j, k) => {
          const b = job.blocks.blockOf(j)
          const x = this.cols.get(b)
          if (!x) throw new Error(`${this.id}: task for column ${j} of block ${b}, not held`)
          const local = j - job.blocks.range(b).first
          const bk = Float64Array.of(beta[k])
          deltas[k] = coordinateDeltas({ n, cols: 1, x: x.subarray(local * n, (local + 1) * n) }, this.r, [0], bk, job.info.lambda)[0]
        })
        const sent = this.lie ? this.lie(deltas, e.msg.round) : deltas
        this.answer(job.result(this.id, { type: 'lasso-result', round: e.msg.round, view: this.view, deltas: new Uint8Array(sent.buffer) }))
        break
      }
      case 'lasso-round': {
        if (e.msg.r) this.r = f32(e.msg.r, 'r').slice()
        else {
          const dr = f32(e.msg.dr!, 'dr')
          for (let i = 0; i < n; i++) this.r[i] -= dr[i]
        }
        this.view = e.msg.round
        break
      }
      case 'job':
        if (e.msg.state === 'done') this.done = true
        break
      default:
        break
    }
    return true
  }

  private answer(r: { ok: boolean }): void {
    if (!r.ok) this.refusals.push(r as Rejection)
  }
}

/** A LassoJob whose outbox feeds CoreWorkers' queues. */
export class CoreGrid implements Outbox {
  readonly workers = new Map<string, CoreWorker>()
  readonly job: LassoJob
  private seq = 0

  constructor(data: RegressionData, hyper: Partial<LassoHyper>, opts: LassoJobOptions = {}) {
    this.job = new LassoJob({ id: 'j-test', name: 'test', dataset: { name: data.name, n: data.n, p: data.p }, hyper: LassoHyperSchema.parse(hyper) }, data, this, opts)
  }

  send<E extends keyof ServerEvents>(to: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void {
    this.workers.get(to)?.queue.push({ event, msg } as Event)
  }

  evict(worker: string, why: Rejection): void {
    const w = this.workers.get(worker)
    if (w) w.evicted = why
  }

  /** A worker says hello and lasso-ready; its residual comes with the answer. */
  async join(): Promise<CoreWorker> {
    const w = new CoreWorker(`w${this.seq++}`, this)
    this.workers.set(w.id, w)
    const hello = this.job.hello(w.id, { type: 'hello', engine: 'cpu' })
    if (!hello.ok) throw new Error(hello.reason)
    const ready = this.job.ready(w.id, { type: 'lasso-ready' })
    if (!ready.ok) throw new Error(ready.reason)
    w.r = f32(ready.r, 'r').slice()
    w.view = ready.round
    await Promise.resolve() // the blocks follow the answer
    return w
  }

  leave(w: CoreWorker): void {
    this.workers.delete(w.id)
    this.job.leave(w.id)
  }

  /** Runs the workers' queues round-robin, one event each, until `until` holds or nothing is left to do. */
  run(until: () => boolean, maxSteps = 10_000_000): number {
    let steps = 0
    while (!until() && steps < maxSteps) {
      let any = false
      for (const w of [...this.workers.values()]) if (w.step()) any = true
      steps++
      if (!any) break
    }
    return steps
  }
}
