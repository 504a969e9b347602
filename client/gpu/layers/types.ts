// What a layer program is: the GPU counterpart of model/layers/types.ts LayerKind, recording its forward and backward
// passes from the kernels into a step's Recorder.
import type { Geometry, LayerPlan, TensorSpec } from '../../../model/layers/types.ts'
import type { Path } from '../../../model/update.ts'
import type { View } from '../kernel.ts'
import type { Kernels } from '../kernels.ts'
import type { Recorder } from '../recorder.ts'

/** What every layer program of one engine records with. */
export interface LayerContext {
  device: GPUDevice
  kernels: Kernels
  tensors: readonly TensorSpec[]
  /** The parameter arena (plan.size floats). */
  model: GPUBuffer
  /** Dense deltas of this step, each at its tensor's arena offset (the same layout as `model`). */
  grads: GPUBuffer
}

export interface ForwardIO {
  /** rows × inSize, read only. */
  x: View
  /** rows × outSize, written. */
  y: View
  rows: number
}

export interface BackwardIO extends ForwardIO {
  /** Gradient at the output (after the activation), rows × outSize; the program may overwrite it with δ. */
  dy: View
  /** Where the gradient at the input goes (overwritten), when an earlier layer needs it. */
  dx?: View
  paths: readonly Path[]
}

/**
 * How one tensor's part of a step is read back: `factors` U = δ (rows×K at u) then V = the layer's input (rows×J at
 * v), or `dense`: the delta in the context's grads at the tensor's offset.
 */
export type PartSource = { tensor: number; path: Path; form: 'factors'; u: View; v: View } | { tensor: number; path: Path; form: 'dense' }

export interface LayerProgram {
  readonly plan: LayerPlan
  /** Its output is its input (flatten): the engine gives it no buffers and records nothing for it. */
  readonly passThrough: boolean
  /** Floats per sample the program's own buffers hold (patch matrices, arg-max indices), for size checks. */
  readonly floatsPerRow: number
  forward(r: Recorder, io: ForwardIO): void
  /**
   * Records the backward pass: δ, dx with the pre-update weights, then this layer's update of the model (factors
   * W += δᵀ·x in place, dense deltas into grads and then added). Returns one source per tensor, in tensor order.
   */
  backward(r: Recorder, io: BackwardIO): PartSource[]
  /** Frees the program's own buffers. */
  destroy(): void
}

/** A layer type's GPU program, built once per engine for one planned layer. */
export type GpuLayerKind<G extends Geometry> = (ctx: LayerContext, plan: LayerPlan<G>) => LayerProgram

/** The model's tensor as a view into the arena (or into grads, at the same offset). */
export function at(buffer: GPUBuffer, t: TensorSpec): View {
  return { buffer, offset: t.offset }
}

/** model += grads over the tensors' ranges, adjacent ranges (a kernel and its bias) in one dispatch. */
export function addDeltas(ctx: LayerContext, r: Recorder, tensors: readonly TensorSpec[]): void {
  const sorted = [...tensors].sort((a, b) => a.offset - b.offset)
  let i = 0
  while (i < sorted.length) {
    const start = sorted[i].offset
    let end = start + sorted[i].size
    while (i + 1 < sorted.length && sorted[i + 1].offset === end) end += sorted[++i].size
    ctx.kernels.add.record(r, { buffer: ctx.model, offset: start }, { buffer: ctx.grads, offset: start }, end - start)
    i++
  }
}
