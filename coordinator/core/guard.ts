// The coordinator's acceptance rule for updates: exact structure checks, and norm bounds every honest worker clips to.
import { structureProblem, type BatchContext } from '../../apps/sgd/checks.ts'
import { boundOf, partNorm, type NormBounds } from '../../model/clip.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { trainStep } from '../../model/network.ts'
import type { Part, Path } from '../../model/update.ts'

/**
 * Decides whether an update is accepted. Deterministic in the update, its batch and the job's norm bounds (fixed when
 * the job is made), and the coordinator is the only one deciding: peers apply a frame only once the coordinator
 * confirmed it, so every replica holds exactly the accepted updates.
 *
 * A part's norm is ‖U‖·‖V‖ for factors (a bound on ‖UᵀV‖) and ‖Δ‖ for a dense change, divided by the update's rate
 * so that the schedule and the 1/P share do not move the bound. Honest workers clip every part to its bound before
 * sending (model/clip.ts), so an honest update always passes: a bound that follows recent norms instead refused
 * honest steps on hard batches, which near convergence reach 15–30× the recent median.
 *
 * @example
 * const g = new UpdateGuard(plan, normBounds(plan, params, x, y, n, 32, hyper.clip))
 * const why = g.check(parts, { lr, rows, x, y })
 */
export class UpdateGuard {
  constructor(
    private readonly plan: ModelPlan,
    readonly bounds: NormBounds,
  ) {}

  /** Why the update is refused, or null. */
  check(parts: readonly Part[], ctx: BatchContext): string | null {
    const structure = structureProblem(this.plan, parts, ctx)
    if (structure) return structure
    for (const p of parts) {
      const n = partNorm(this.plan.tensors[p.tensor], p, ctx.rows) / ctx.lr
      const bound = boundOf(this.bounds, p)
      if (!(n <= bound)) {
        return `${this.plan.tensors[p.tensor].name}: norm ${fmt(n * ctx.lr)} is over the clipping bound ${fmt(bound * ctx.lr)} at this rate`
      }
    }
    return null
  }
}

function fmt(x: number): string {
  return x.toPrecision(3)
}

function median(xs: readonly number[]): number {
  if (!xs.length) return 0
  const s = [...xs].sort((a, b) => a - b)
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

/**
 * The job's norm bounds: per tensor and form, `clip` × the median norm per unit of rate of honest steps on the initial
 * model, over up to `batches` batches of `rows` from x (n × inputSize) with labels y. Measured on honest unclipped runs
 * (mlr, mlp:64, cnn; B 1–8, lr up to 0.5), ~99 % of steps stay under 4× that median; a step on a hard batch of a CNN
 * at lr 0.5 on one worker reached 30×.
 */
export function normBounds(plan: ModelPlan, params: Float32Array, x: Float32Array, y: ArrayLike<number>, n: number, rows: number, clip: number, batches = 4): NormBounds {
  const seen = plan.tensors.map(() => ({ factors: [] as number[], dense: [] as number[] }))
  const forms: Path[][] = [plan.tensors.map((t) => (t.factorable ? 'sf' : 'ps')), plan.tensors.map(() => 'ps')]
  for (let b = 0; b < batches && b * rows < n; b++) {
    const r = Math.min(rows, n - b * rows)
    for (const paths of forms) {
      for (const p of trainStep(plan, params, x, y, b * rows, r, -1 / r, paths).parts) seen[p.tensor][p.form].push(partNorm(plan.tensors[p.tensor], p, r))
    }
  }
  return { factors: seen.map((s) => clip * median(s.factors)), dense: seen.map((s) => clip * median(s.dense)) }
}
