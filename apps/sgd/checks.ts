// Exact checks every honest SGD update passes: the softmax output's gradient structure, the first layer's inputs.
import type { ModelPlan } from '../../model/plan.ts'
import type { Part } from '../../model/update.ts'

/** The batch an update claims to come from: its rate (lr of the lease), rows, inputs and labels. */
export interface BatchContext {
  lr: number
  rows: number
  /** rows × inputSize, the leased shard's rows this update covers. */
  x: Float32Array
  /** rows labels. */
  y: ArrayLike<number>
}

/** Float slack of the checks, relative to the quantity checked (float32 softmax sums, GPU rounding). */
export const CHECK_TOLERANCE = 1e-3

type Range = [number, number]

/**
 * Why this update cannot be an honest SGD step on its batch, or null. With scale a = lr/rows the output layer's
 * factor U is a·(onehot − softmax): each row sums to 0, its label entry is in [0, a], every other in [−a, 0]; the
 * output bias change for class k is a·(n_k − Σᵢ pᵢₖ) ∈ [a(n_k − rows), a·n_k]; a dense output kernel change has
 * columns summing to 0. A first dense layer's factor V is the batch's inputs, exactly. Factor V of a later dense layer
 * holds the previous activation's outputs, within its range (relu ≥ 0, sigmoid [0, 1], tanh [−1, 1]).
 */
export function structureProblem(plan: ModelPlan, parts: readonly Part[], ctx: BatchContext): string | null {
  const byTensor = new Map(parts.map((p) => [p.tensor, p]))
  const a = ctx.lr / ctx.rows
  const ranges = inputRanges(plan)
  for (const [li, layer] of plan.layers.entries()) {
    if (layer.type !== 'dense') continue
    const [kt, bt] = layer.tensors
    const kernel = byTensor.get(kt)
    const bias = bt === undefined ? undefined : byTensor.get(bt)
    const K = layer.outSize
    const J = layer.inSize
    const name = plan.tensors[kt].name
    const out = li === plan.layers.length - 1
    if (kernel?.form === 'factors') {
      const U = kernel.floats.subarray(0, ctx.rows * K)
      const V = kernel.floats.subarray(ctx.rows * K)
      if (li === 0) {
        for (let i = 0; i < V.length; i++) if (V[i] !== ctx.x[i]) return `${name}: its factor V is not the batch's inputs (row ${Math.floor(i / J)})`
      } else {
        const [lo, hi] = ranges[li]
        for (let i = 0; i < V.length; i++) if (V[i] < lo || V[i] > hi) return `${name}: its factor V holds ${V[i]}, outside the previous layer's range [${lo}, ${hi}]`
      }
      if (out) {
        const p = outputFactorProblem(U, K, ctx, a)
        if (p) return `${name}: ${p}`
      }
    } else if (kernel && out) {
      const p = columnSumProblem(kernel.floats, K, J)
      if (p) return `${name}: ${p}`
      if (li === 0) {
        const q = inputBoundProblem(kernel.floats, K, J, ctx, a)
        if (q) return `${name}: ${q}`
      }
    }
    if (bias && out) {
      const p = outputBiasProblem(bias.floats, K, ctx, a)
      if (p) return `${plan.tensors[bt].name}: ${p}`
    }
  }
  return null
}

function outputFactorProblem(U: Float32Array, K: number, ctx: BatchContext, a: number): string | null {
  const tol = CHECK_TOLERANCE * a
  for (let i = 0; i < ctx.rows; i++) {
    let sum = 0
    const label = ctx.y[i]
    for (let k = 0; k < K; k++) {
      const u = U[i * K + k]
      sum += u
      const ok = k === label ? u >= -tol && u <= a + tol : u <= tol && u >= -a - tol
      if (!ok) return `U[${i}, ${k}] = ${u} is not a softmax gradient for label ${label} at rate ${ctx.lr}`
    }
    if (Math.abs(sum) > tol) return `row ${i} of U sums to ${sum}, not 0`
  }
  return null
}

function outputBiasProblem(b: Float32Array, K: number, ctx: BatchContext, a: number): string | null {
  const n = new Array<number>(K).fill(0)
  for (let i = 0; i < ctx.rows; i++) n[ctx.y[i]]++
  const tol = CHECK_TOLERANCE * a * ctx.rows
  let sum = 0
  for (let k = 0; k < K; k++) {
    sum += b[k]
    if (b[k] > a * n[k] + tol || b[k] < a * (n[k] - ctx.rows) - tol) return `class ${k}'s change ${b[k]} is outside [${a * (n[k] - ctx.rows)}, ${a * n[k]}] for this batch`
  }
  if (Math.abs(sum) > tol) return `the changes sum to ${sum}, not 0`
  return null
}

/** Σₖ ΔW[k, j] = Σᵢ (Σₖ Uᵢₖ) Vᵢⱼ = 0 for every input j. */
function columnSumProblem(w: Float32Array, K: number, J: number): string | null {
  for (let j = 0; j < J; j++) {
    let sum = 0
    let abs = 0
    for (let k = 0; k < K; k++) {
      sum += w[k * J + j]
      abs += Math.abs(w[k * J + j])
    }
    if (Math.abs(sum) > CHECK_TOLERANCE * abs + 1e-30) return `column ${j} sums to ${sum}, not 0`
  }
  return null
}

/** A first-layer output kernel: |ΔW[k, j]| ≤ a·Σᵢ|xᵢⱼ| (so 0 where the batch's input j is 0). */
function inputBoundProblem(w: Float32Array, K: number, J: number, ctx: BatchContext, a: number): string | null {
  for (let j = 0; j < J; j++) {
    let s = 0
    for (let i = 0; i < ctx.rows; i++) s += Math.abs(ctx.x[i * J + j])
    const bound = a * s * (1 + CHECK_TOLERANCE) + 1e-30
    for (let k = 0; k < K; k++) if (Math.abs(w[k * J + j]) > bound) return `ΔW[${k}, ${j}] = ${w[k * J + j]} is larger than the batch's inputs allow (${bound})`
  }
  return null
}

/** Per layer, the range of its input values as the previous layers bound them (the data's own range is unknown). */
function inputRanges(plan: ModelPlan): Range[] {
  const out: Range[] = []
  let r: Range = [-Infinity, Infinity]
  for (const l of plan.layers) {
    out.push(r)
    if (l.type === 'maxPooling2d' || l.type === 'flatten') continue
    r = l.activation === 'relu' ? [0, Infinity] : l.activation === 'sigmoid' ? [0, 1] : l.activation === 'tanh' ? [-1, 1] : [-Infinity, Infinity]
  }
  return out
}
