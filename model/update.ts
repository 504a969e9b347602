// An update: one worker's change to every tensor for one clock, as parts (factors or dense); applying and undoing it.
import type { TensorSpec } from './layers/types.ts'

/** How a tensor's update travels: `sf` as sufficient factors peer to peer, `ps` as a dense delta via the server. */
export type Path = 'sf' | 'ps'
export type Form = 'factors' | 'dense'
export const PATHS: readonly Path[] = ['sf', 'ps']
export const FORMS: readonly Form[] = ['factors', 'dense']

/**
 * One tensor's share of an update, already scaled by the sender (−lr/B). `factors`: U (rows×K) then V (rows×J), the
 * change is UᵀV; `dense`: the change itself, `size` floats.
 */
export interface Part {
  tensor: number
  path: Path
  form: Form
  floats: Float32Array
}

export interface Update {
  clock: number
  /** The clock of the sender's previous update, −1 for its first. */
  prev: number
  /** The batch size B of this clock: factor parts have this many rows. */
  rows: number
  parts: Part[]
}

/** The form a path carries: factors go peer to peer, the server sums dense deltas. */
export function formOf(path: Path): Form {
  return path === 'sf' ? 'factors' : 'dense'
}

/** The floats a part of this form must hold for tensor t and a batch of `rows`. */
export function partLength(t: TensorSpec, form: Form, rows: number): number {
  return form === 'factors' ? rows * (t.rows + t.cols) : t.size
}

/** arena[t] += the part's change: UᵀV for factors (K×J += (rows×K)ᵀ·(rows×J)), elementwise for dense. */
export function applyPart(arena: Float32Array, t: TensorSpec, p: Part, rows: number): void {
  const f = p.floats
  if (p.form === 'dense') {
    for (let i = 0; i < t.size; i++) arena[t.offset + i] += f[i]
    return
  }
  const K = t.rows
  const J = t.cols
  const vAt = rows * K
  for (let k = 0; k < K; k++) {
    const wo = t.offset + k * J
    for (let i = 0; i < rows; i++) {
      const u = f[i * K + k]
      if (u === 0) continue
      const vo = vAt + i * J
      for (let j = 0; j < J; j++) arena[wo + j] += u * f[vo + j]
    }
  }
}

export function applyParts(arena: Float32Array, tensors: readonly TensorSpec[], parts: readonly Part[], rows: number): void {
  for (const p of parts) applyPart(arena, tensors[p.tensor], p, rows)
}

/** The part whose change is c times p's: U scaled for factors (UᵀV is linear in U; V stays the inputs), every value for dense. */
export function scalePart(t: TensorSpec, p: Part, rows: number, c: number): Part {
  const floats = p.floats.slice()
  const n = p.form === 'factors' ? rows * t.rows : floats.length
  for (let i = 0; i < n; i++) floats[i] *= c
  return { ...p, floats }
}

/** Every part scaled as by scalePart. */
export function scaleParts(tensors: readonly TensorSpec[], parts: readonly Part[], rows: number, c: number): Part[] {
  return parts.map((p) => scalePart(tensors[p.tensor], p, rows, c))
}

/** The part that undoes p: scalePart by −1. */
export function negatePart(t: TensorSpec, p: Part, rows: number): Part {
  return scalePart(t, p, rows, -1)
}

/** The parts that undo `parts` (each negated as by negatePart). */
export function negateParts(tensors: readonly TensorSpec[], parts: readonly Part[], rows: number): Part[] {
  return scaleParts(tensors, parts, rows, -1)
}

/** Adds the dense (`ps`) parts into per-tensor running sums (a copy starts a tensor's sum); others are ignored. */
export function sumDense(sums: Map<number, Float32Array>, parts: readonly Part[]): void {
  for (const p of parts) {
    if (p.path !== 'ps') continue
    const sum = sums.get(p.tensor)
    if (!sum) sums.set(p.tensor, p.floats.slice())
    else for (let i = 0; i < sum.length; i++) sum[i] += p.floats[i]
  }
}

/** Per-tensor sums as dense `ps` parts in tensor order. */
export function denseParts(sums: ReadonlyMap<number, Float32Array>): Part[] {
  return [...sums].sort((a, b) => a[0] - b[0]).map(([tensor, floats]) => ({ tensor, path: 'ps', form: 'dense', floats }))
}

/** The dense change a part makes (UᵀV for factors), for summing into a parameter-server aggregate. */
export function densify(t: TensorSpec, p: Part, rows: number): Float32Array {
  if (p.form === 'dense') return p.floats
  const out = new Float32Array(t.size)
  applyPart(out, { ...t, offset: 0 }, p, rows)
  return out
}
