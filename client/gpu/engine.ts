// The compute engine a worker trains with: the interface both backends implement, over any planned model.
import type { ModelPlan } from '../../model/plan.ts'
import type { Part, Path } from '../../model/update.ts'

export interface StepOutput {
  /** Σ of per-sample loss over the batch, before the update. */
  loss: number
  /** Correct predictions in the batch, before the update. */
  correct: number
  /**
   * One part per tensor, in tensor order, with the path asked for: `sf` → factors U (rows×K, scaled) then V (rows×J,
   * the layer's input rows); `ps` → the dense delta. Applying them all is this step's update.
   */
  parts: Part[]
}

export interface Engine {
  readonly kind: 'webgpu' | 'cpu'
  readonly plan: ModelPlan
  /** The whole arena (plan.size floats). */
  setModel(arena: Float32Array): void
  readModel(): Promise<Float32Array>
  /**
   * Features n × plan.inputSize, labels n (each < plan.classes). The WebGPU engine keeps a reference to `x` (the
   * first dense layer's factor V is read from it, not back from the GPU): do not change the array while it is loaded.
   */
  loadShard(x: Float32Array, y: Uint8Array, n: number): void
  /**
   * One SGD step on rows [row0, row0+rows) of the loaded shard: forward, softmax cross-entropy scaled by `scale`
   * (−lr/rows), backward; applies its own update to the model and returns it as parts.
   */
  step(row0: number, rows: number, scale: number, paths: readonly Path[]): Promise<StepOutput>
  /** Adds parts to the model, in call order after any step already issued: peers' factors, server aggregates, undos. */
  apply(parts: readonly Part[], rows: number): void
  /** Sums of loss and correct over n samples; the model is unchanged. */
  evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }>
  /** Frees everything the engine holds (GPU buffers, pipelines' scratch); the engine is unusable afterwards. */
  destroy(): void
}
