// Drives shaders/dense_update.wgsl: model += delta over W then b.
import src from '../../shaders/dense_update.wgsl?raw'
import { createKernelPipeline, grid, uniformWords } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class DenseUpdateKernel {
  private readonly pipeline: GPUComputePipeline

  constructor(private readonly device: GPUDevice) {
    this.pipeline = createKernelPipeline(device, 'dense_update', src, { WG })
  }

  /** count = K·J + K floats of delta added into model. */
  record(r: Recorder, b: { delta: GPUBuffer; model: GPUBuffer }, count: number): void {
    const params = r.uniform('dense_update', uniformWords([count, 0, 0, 0]))
    const groups = grid(count, WG, this.device.limits.maxComputeWorkgroupsPerDimension)
    r.dispatch(this.pipeline, [params, b.delta, b.model], groups)
  }
}
