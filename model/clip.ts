// Per-tensor norm clipping of an update, per unit of rate: what every honest worker applies and the guard checks.
import type { TensorSpec } from './layers/types.ts'
import { scalePart, type Part } from './update.ts'

/**
 * Per tensor, the largest norm an update part may have per unit of rate (the lease's lr), in each form; 0 where the
 * tensor never takes that form. The coordinator sets them once per job (clip × the median norm of reference steps on
 * the initial model), and every worker gets them at join, so clipping is a function of shared state.
 */
export interface NormBounds {
  factors: number[]
  dense: number[]
}

/** Workers clip to this fraction of a bound, so that f32 rounding never puts a clipped part over it. */
export const CLIP_MARGIN = 0.999

/** ‖U‖·‖V‖ for factors (a bound on ‖UᵀV‖), ‖Δ‖ for a dense change; in float64. */
export function partNorm(tensor: Pick<TensorSpec, 'rows'>, p: Part, rows: number): number {
  if (p.form === 'dense') return norm(p.floats, 0, p.floats.length)
  const split = rows * tensor.rows
  return norm(p.floats, 0, split) * norm(p.floats, split, p.floats.length)
}

/** The bound for a part (per unit of rate), Infinity where none is set. */
export function boundOf(bounds: NormBounds, p: Pick<Part, 'tensor' | 'form'>): number {
  return bounds[p.form][p.tensor] || Infinity
}

/**
 * Scales every part whose norm per unit of `rate` is over its bound down to CLIP_MARGIN × the bound (U only for
 * factors: V stays the layer's inputs, bit for bit). Returns the clipped parts and, for the caller that has already
 * applied the unclipped ones (an engine's step applies its own update), the parts that take the excess back.
 *
 * @example
 * const { parts, excess } = clipParts(plan.tensors, step.parts, rows, lease.lr, job.bounds)
 * if (excess.length) engine.apply(excess, rows)
 */
export function clipParts(tensors: readonly TensorSpec[], parts: readonly Part[], rows: number, rate: number, bounds: NormBounds): { parts: Part[]; excess: Part[] } {
  const out: Part[] = []
  const excess: Part[] = []
  for (const p of parts) {
    const n = partNorm(tensors[p.tensor], p, rows) / rate
    const bound = boundOf(bounds, p)
    if (!(n > bound)) {
      out.push(p)
      continue
    }
    const c = (CLIP_MARGIN * bound) / n
    out.push(scalePart(tensors[p.tensor], p, rows, c))
    excess.push(scalePart(tensors[p.tensor], p, rows, -(1 - c)))
  }
  return { parts: out, excess }
}

function norm(f: Float32Array, from: number, to: number): number {
  let s = 0
  for (let i = from; i < to; i++) s += f[i] * f[i]
  return Math.sqrt(s)
}
