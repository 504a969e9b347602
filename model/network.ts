// A whole model in plain TypeScript: forward, backward to update parts, evaluation. The CPU engine, the coordinator's
// evaluator and every WGSL program's test are built on it.
import { layerKind } from './layers/index.ts'
import type { ForwardResult } from './layers/types.ts'
import { reduceStats, softmaxCrossEntropy } from './loss.ts'
import type { ModelPlan } from './plan.ts'
import type { Part, Path } from './update.ts'

export interface StepResult {
  /** Σ of per-sample loss over the batch, before the update. */
  loss: number
  /** Correct predictions in the batch, before the update. */
  correct: number
  /** One part per tensor, in tensor order, scaled by `scale`: applying them all is the SGD step. */
  parts: Part[]
}

/** Every layer's output for rows of x (x is rows × inputSize): acts[0] = x, acts[l + 1] = layer l's output. */
export function forwardAll(plan: ModelPlan, params: Float32Array, x: Float32Array, rows: number): { acts: Float32Array[]; caches: unknown[] } {
  const acts = [x]
  const caches: unknown[] = []
  for (const l of plan.layers) {
    const r: ForwardResult = layerKind(l.type).forward(l, plan.tensors, params, acts[acts.length - 1], rows)
    acts.push(r.y)
    caches.push(r.cache)
  }
  return { acts, caches }
}

/**
 * One SGD step's update on rows [row0, row0 + rows) of X (n × inputSize) with labels y: forward, softmax
 * cross-entropy scaled by `scale` (−lr/B), backward. `paths` says per tensor whether its part is factors (sf) or a
 * dense delta (ps). The parameters are not changed.
 */
export function trainStep(
  plan: ModelPlan,
  params: Float32Array,
  X: Float32Array,
  y: ArrayLike<number>,
  row0: number,
  rows: number,
  scale: number,
  paths: readonly Path[],
): StepResult {
  const x = X.subarray(row0 * plan.inputSize, (row0 + rows) * plan.inputSize)
  const { acts, caches } = forwardAll(plan, params, x, rows)
  const g = softmaxCrossEntropy(plan.classes, acts[acts.length - 1], y, row0, rows, scale)
  const { loss, correct } = reduceStats(g.loss, g.correct)
  const parts: Part[] = []
  let dy = g.dLogits
  for (let i = plan.layers.length - 1; i >= 0; i--) {
    const l = plan.layers[i]
    const r = layerKind(l.type).backward({ plan: l, tensors: plan.tensors, params, x: acts[i], y: acts[i + 1], cache: caches[i], dy, rows, needDx: i > 0, paths })
    parts.unshift(...r.parts)
    if (r.dx) dy = r.dx
  }
  return { loss, correct, parts }
}

/** Logits (n × classes) for n samples, in blocks so memory stays small. */
export function predict(plan: ModelPlan, params: Float32Array, X: Float32Array, n: number, block = 256): Float32Array {
  const out = new Float32Array(n * plan.classes)
  for (let r = 0; r < n; r += block) {
    const rows = Math.min(block, n - r)
    const { acts } = forwardAll(plan, params, X.subarray(r * plan.inputSize, (r + rows) * plan.inputSize), rows)
    out.set(acts[acts.length - 1], r * plan.classes)
  }
  return out
}

/** Summed loss and correct count of the model on n samples (X n × inputSize, labels y). */
export function evaluateSums(plan: ModelPlan, params: Float32Array, X: Float32Array, y: ArrayLike<number>, n: number, block = 256): { loss: number; correct: number } {
  let loss = 0
  let correct = 0
  for (let r = 0; r < n; r += block) {
    const rows = Math.min(block, n - r)
    const { acts } = forwardAll(plan, params, X.subarray(r * plan.inputSize, (r + rows) * plan.inputSize), rows)
    const g = softmaxCrossEntropy(plan.classes, acts[acts.length - 1], y, r, rows, 0)
    const s = reduceStats(g.loss, g.correct)
    loss += s.loss
    correct += s.correct
  }
  return { loss, correct }
}

/** Mean loss and accuracy on n samples. */
export function evaluate(plan: ModelPlan, params: Float32Array, X: Float32Array, y: ArrayLike<number>, n: number): { loss: number; accuracy: number } {
  const s = evaluateSums(plan, params, X, y, n)
  return { loss: n ? s.loss / n : NaN, accuracy: n ? s.correct / n : NaN }
}
