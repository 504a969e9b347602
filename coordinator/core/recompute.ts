// Spot re-computation (BOINC-style): rebuild the model a worker says it computed from, redo its step, compare.
import { randomBytes } from 'node:crypto'
import { clipParts, type NormBounds } from '../../model/clip.ts'
import { trainStep } from '../../model/network.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { applyParts, negateParts, type Part } from '../../model/update.ts'
import { readFrame } from '../../protocol/frames.ts'
import type { View } from '../../protocol/messages.ts'
import type { BatchContext } from '../../apps/sgd/checks.ts'
import type { Replica } from './replica.ts'
import type { UpdateLog } from './update-log.ts'

/** A re-computed part may differ from the sent one by this fraction of its norm (float order, GPU arithmetic). */
export const VERIFY_TOLERANCE = 1e-2

interface Released {
  from: number
  to: number
  parts: Part[]
}

/** Where a re-computation finds the job's state: its replica, the log of sf frames, who is still a member. */
export interface JobState {
  replica: Replica
  log: UpdateLog
  isMember(worker: string): boolean
}

/**
 * Samples accepted updates at `rate` (from a secret random stream, so no worker can tell which are checked) and
 * re-computes them. The model the worker computed from is the replica R at frontier F, plus every sender's sf updates
 * the worker held beyond F, minus those R holds that the worker did not, minus the server aggregates from the
 * worker's `psUpTo` on, plus the worker's own ps parts from there. Updates are linear, so this is exact up to float
 * order. Keeps its own ps parts and released aggregates for the last few clocks only.
 */
export class Verifier {
  private readonly ownPs = new Map<string, Map<number, Part[]>>()
  private readonly released: Released[] = []
  /** Per live worker: updates sampled so far, and where in the current block of ⌈1/rate⌉ the checked one is. */
  private readonly seen = new Map<string, { n: number; pick: number }>()
  private state: number
  checked = 0
  skipped = 0
  failed = 0

  constructor(
    private readonly plan: ModelPlan,
    readonly rate: number,
    /** The job's norm bounds: the re-computed step is clipped as the worker clipped its own. */
    private readonly bounds: NormBounds,
  ) {
    this.state = randomBytes(4).readUInt32LE(0)
  }

  /**
   * True for the updates to check, unpredictable to workers. Each worker's updates fall in blocks of ⌈1/rate⌉, and
   * one update at a secret random place in each block is checked, so a tab that lies at every update is caught
   * within 2/rate of them (independent draws at `rate` leave a liar unchecked for 3/rate updates one time in 20).
   * Newcomers are checked more closely besides: the n-th update (from 0) with probability 1/(n + 1), so the first
   * always. About rate·n + ln n checks per worker.
   */
  sample(worker: string): boolean {
    if (this.rate <= 0) return false
    const block = Math.ceil(1 / this.rate)
    const w = this.seen.get(worker) ?? { n: 0, pick: -1 }
    const at = w.n % block
    if (at === 0) w.pick = Math.floor(this.random() * block)
    w.n++
    this.seen.set(worker, w)
    return at === w.pick || this.random() < 1 / w.n
  }

  /** mulberry32 on a secret seed: uniform in [0, 1). */
  private random(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) | 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  /** A worker's accepted update put these parts through the server. */
  own(worker: string, clock: number, ps: Part[]): void {
    let m = this.ownPs.get(worker)
    if (!m) this.ownPs.set(worker, (m = new Map()))
    m.set(clock, ps)
  }

  /** The server's aggregate of clocks [from, to) went out (and into the replica). */
  release(from: number, to: number, parts: readonly Part[]): void {
    if (to > from) this.released.push({ from, to, parts: [...parts] })
  }

  /** Forgets what no worker at clock ≥ min can need (its psUpTo is ≥ min − s), and departed workers. */
  trim(min: number, s: number, live: (w: string) => boolean): void {
    const keep = min - s - 1
    while (this.released.length && this.released[0].to <= keep) this.released.shift()
    for (const w of this.seen.keys()) if (!live(w)) this.seen.delete(w)
    for (const [w, m] of this.ownPs) {
      if (!live(w)) this.ownPs.delete(w)
      else for (const c of m.keys()) if (c < keep) m.delete(c)
    }
  }

  /**
   * Re-computes `parts` (worker's update of `clock`, from `view`, on batch ctx); returns why it differs, or null when
   * it matches. `undefined`: this update cannot be checked (the state it needs was trimmed), counted as skipped.
   */
  check(job: JobState, worker: string, clock: number, view: View, parts: readonly Part[], ctx: BatchContext): string | null | undefined {
    const model = this.modelFor(job, worker, clock, view)
    if (typeof model === 'string') {
      this.checked++
      this.failed++
      return model
    }
    if (!model) {
      this.skipped++
      return undefined
    }
    this.checked++
    const paths = this.plan.tensors.map((t) => parts.find((p) => p.tensor === t.index)?.path ?? 'ps')
    const step = trainStep(this.plan, model, ctx.x, ctx.y, 0, ctx.rows, -ctx.lr / ctx.rows, paths).parts
    const redo = clipParts(this.plan.tensors, step, ctx.rows, ctx.lr, this.bounds).parts
    for (const [i, p] of parts.entries()) {
      const t = this.plan.tensors[p.tensor]
      // factors compare U and V apart: V (a layer's inputs) can outweigh U by far and hide a wrong gradient
      const blocks: Array<[string, number, number]> =
        p.form === 'factors' ? [['U', 0, ctx.rows * t.rows], ['V', ctx.rows * t.rows, p.floats.length]] : [['', 0, p.floats.length]]
      for (const [block, from, to] of blocks) {
        const off = relativeError(p.floats, redo[i].floats, from, to)
        if (!(off <= VERIFY_TOLERANCE)) {
          this.failed++
          return `re-computed from the view it stated, ${t.name}${block ? ` (${block})` : ''} differs by ${(off * 100).toPrecision(3)} % of its norm`
        }
      }
    }
    return null
  }

  /** The model `view` describes, a reason when the view cannot be true, or null when it cannot be rebuilt. */
  private modelFor(job: JobState, worker: string, clock: number, view: View): Float32Array | string | null {
    const { replica, log } = job
    const F = replica.frontier
    const M = replica.params.slice()
    const tensors = this.plan.tensors
    // every sender that may hold updates on either side of F: the view's, the queue's, and the log's (a peer the
    // worker never heard of has its updates ≤ F in the replica, to take out)
    const senders = new Set([...Object.keys(view.vc), ...replica.queuedSenders(), ...log.senderIds(), worker])
    for (const p of senders) {
      // own updates below `clock` are all in; a live peer it never heard of, none; a departed one, those ≤ F
      const want = p === worker ? clock - 1 : (view.vc[p] ?? (job.isMember(p) ? -1 : F))
      if (want > F) {
        const queued = replica.queuedOf(p).filter((u) => u.clock <= want)
        const top = queued.reduce((m, u) => Math.max(m, u.clock), F)
        if (top < want && p !== worker) return `its view claims update ${want} of ${p}, which the coordinator does not have`
        for (const u of queued) applyParts(M, tensors, u.sf, u.rows)
      } else if (want < F) {
        const { updates, truncated } = log.since(p, want)
        if (truncated) return null
        for (const u of updates) {
          if (u.clock > F) break
          const f = readFrame(u.frame, tensors, { expect: 'sf', maxRows: Number.MAX_SAFE_INTEGER })
          applyParts(M, tensors, negateParts(tensors, f.parts, f.rows), f.rows)
        }
      }
    }
    if (view.psUpTo > F + 1) return `its view claims server aggregates up to clock ${view.psUpTo}, the job is at ${F + 1}`
    for (const r of this.released) {
      if (r.to <= view.psUpTo) continue
      if (r.from < view.psUpTo) return `its view's psUpTo ${view.psUpTo} splits the aggregate [${r.from}, ${r.to})`
      applyParts(M, tensors, negateParts(tensors, r.parts, 0), 0)
    }
    if (this.released.length && this.released[0].from > view.psUpTo) return null
    const own = this.ownPs.get(worker)
    for (let c = view.psUpTo; c < clock; c++) {
      const ps = own?.get(c)
      if (ps) applyParts(M, tensors, ps, 0)
    }
    return M
  }
}

/** ‖got − want‖ / ‖want‖ over [from, to); an all-zero `want` allows 1e-12 of absolute error. */
function relativeError(got: Float32Array, want: Float32Array, from: number, to: number): number {
  let d = 0
  let n = 0
  for (let k = from; k < to; k++) {
    d += (got[k] - want[k]) ** 2
    n += want[k] * want[k]
  }
  return n > 0 ? Math.sqrt(d / n) : Math.sqrt(d) <= 1e-12 ? 0 : Infinity
}
