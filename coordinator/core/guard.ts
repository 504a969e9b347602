// The coordinator's acceptance rule for updates: exact structure checks plus norm bounds from recent honest norms.
import { structureProblem, type BatchContext } from '../../apps/sgd/checks.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { trainStep } from '../../model/network.ts'
import type { Part, Path } from '../../model/update.ts'

/**
 * An update part may be this many times the median of the tensor's recent accepted norms (per unit of rate), or of its
 * reference norms on the initial model if those are larger. Measured on honest runs (mlr, mlp:64, cnn; B 4–8, lr up
 * to 0.5), single updates reach ~13× the recent median once the model fits its batches, and ~4× the reference.
 */
export const NORM_FACTOR = 20
/** How many recent accepted norms per tensor the median is taken over. */
export const NORM_WINDOW = 64

/**
 * Decides whether an update is accepted. Deterministic in the update, its batch and the guard's state (the accepted
 * norms, in acceptance order), and the coordinator is the only one deciding: peers apply a frame only once the
 * coordinator confirmed it, so every replica holds exactly the accepted updates.
 *
 * A part's norm is ‖U‖·‖V‖ for factors (a bound on ‖UᵀV‖) and ‖Δ‖ for a dense change, divided by the update's rate
 * so that the schedule and the 1/P share do not move the bound. The window starts from a reference step the
 * coordinator computes itself, so the first updates are bounded too.
 *
 * @example
 * const g = new UpdateGuard(plan, referenceNorms(plan, params, x, y, n, 32))
 * const why = g.check(parts, { lr, rows, x, y })
 * if (!why) g.accept(parts, lr, rows)
 */
export class UpdateGuard {
  /** Per tensor and form (factors, dense): recent accepted norms per unit of rate. A path change switches windows. */
  private readonly windows: Array<Record<Part['form'], number[]>>
  /** Per tensor and form: the median of the reference norms, the bound's floor (0 with no reference). */
  private readonly floors: Array<Record<Part['form'], number>>

  constructor(
    private readonly plan: ModelPlan,
    /** Per tensor, the norms per unit of rate of reference steps on the initial model, in each form it can take. */
    reference: ReadonlyArray<Partial<Record<Part['form'], number[]>>>,
  ) {
    this.windows = reference.map((r) => ({ factors: [...(r.factors ?? [])], dense: [...(r.dense ?? [])] }))
    this.floors = reference.map((r) => ({ factors: median(r.factors ?? []), dense: median(r.dense ?? []) }))
  }

  /**
   * The bound for a tensor's part in this form right now (norm per unit of rate); Infinity with no reference. Once a
   * model fits its batches the recent median falls far below the size of a step on a hard batch, so the median of
   * the reference steps is the floor: honest steps rarely exceed a few times it, scaled ones (×1000) far exceed it.
   */
  bound(tensor: number, form: Part['form']): number {
    const w = this.windows[tensor][form]
    return w.length ? NORM_FACTOR * Math.max(median(w), this.floors[tensor][form]) : Infinity
  }

  /** Why the update is refused, or null. */
  check(parts: readonly Part[], ctx: BatchContext): string | null {
    const structure = structureProblem(this.plan, parts, ctx)
    if (structure) return structure
    for (const p of parts) {
      const n = partNorm(this.plan, p, ctx.rows) / ctx.lr
      const bound = this.bound(p.tensor, p.form)
      if (!(n <= bound)) {
        return `${this.plan.tensors[p.tensor].name}: norm ${fmt(n * ctx.lr)} is over the bound ${fmt(bound * ctx.lr)} (${NORM_FACTOR}× the median of recent or reference updates)`
      }
    }
    return null
  }

  /** Records an accepted update's norms. */
  accept(parts: readonly Part[], lr: number, rows: number): void {
    for (const p of parts) {
      const w = this.windows[p.tensor][p.form]
      w.push(partNorm(this.plan, p, rows) / lr)
      if (w.length > NORM_WINDOW) w.shift()
    }
  }
}

/** ‖U‖·‖V‖ for factors, ‖Δ‖ for dense, in float64. */
export function partNorm(plan: ModelPlan, p: Part, rows: number): number {
  if (p.form === 'dense') return norm(p.floats, 0, p.floats.length)
  const split = rows * plan.tensors[p.tensor].rows
  return norm(p.floats, 0, split) * norm(p.floats, split, p.floats.length)
}

function norm(f: Float32Array, from: number, to: number): number {
  let s = 0
  for (let i = from; i < to; i++) s += f[i] * f[i]
  return Math.sqrt(s)
}

function median(xs: readonly number[]): number {
  if (!xs.length) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

function fmt(x: number): string {
  return x.toPrecision(3)
}

/**
 * Norms per unit of rate of honest steps on the initial model, for every tensor in both forms it may take: the guard's
 * starting point. Uses up to `batches` batches of `rows` from x (n × inputSize) with labels y.
 */
export function referenceNorms(plan: ModelPlan, params: Float32Array, x: Float32Array, y: ArrayLike<number>, n: number, rows: number, batches = 4): Array<Partial<Record<Part['form'], number[]>>> {
  const out = plan.tensors.map(() => ({}) as Partial<Record<Part['form'], number[]>>)
  const forms: Path[][] = [plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps')), plan.tensors.map(() => 'ps')]
  for (let b = 0; b < batches && b * rows < n; b++) {
    const r = Math.min(rows, n - b * rows)
    for (const paths of forms) {
      for (const p of trainStep(plan, params, x, y, b * rows, r, -1 / r, paths).parts) {
        const list = (out[p.tensor][p.form] ??= [])
        list.push(partNorm(plan, p, r))
      }
    }
  }
  return out
}
