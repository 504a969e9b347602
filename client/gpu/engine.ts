// The compute engine a worker trains with: the interface both backends implement, and the WebGPU factory.
import type { MlrDims, MlrParams } from '../../model/mlr.ts'
import { GpuEngine } from './gpu-engine.ts'

export interface StepResult {
  /** rows×K factors, scaled by `scale`, computed from the model BEFORE the update. */
  U: Float32Array
  /** When mode === 'dense': dW = UᵀV (K×J) and db = Σ_i U[i,·]. */
  dense?: MlrParams
  /** Σ of per-sample loss over the batch (before the update). */
  loss: number
  /** Count of correct predictions (before the update). */
  correct: number
}

export interface Engine {
  readonly kind: 'webgpu' | 'cpu'
  readonly dims: MlrDims
  setModel(p: MlrParams): void
  readModel(): Promise<MlrParams>
  /** Features n×J, labels n. */
  loadShard(x: Float32Array, y: Uint8Array, n: number): void
  /** One local SGD step on rows [row0, row0+rows) of the loaded shard: forward, softmax-CE factors, W += UᵀV (own update applied). */
  step(row0: number, rows: number, scale: number, mode: 'factors' | 'dense'): Promise<StepResult>
  /** A peer's update: W += UᵀV, b += ΣU. */
  applyFactors(U: Float32Array, V: Float32Array, rows: number): void
  /** A peer's dense update. */
  applyDense(dW: Float32Array, db: Float32Array): void
  /** Sums of loss and correct over n samples; the model is unchanged. */
  evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }>
  destroy(): void
}

/**
 * The WebGPU engine on an injected device (never `navigator.gpu` here).
 *
 * @example
 * const { device } = await openDevice(navigator.gpu, (e) => worker.leave())
 * const engine = createGpuEngine(device, { K: 10, J: 784 })
 */
export function createGpuEngine(device: GPUDevice, dims: MlrDims): Engine {
  return new GpuEngine(device, dims)
}
