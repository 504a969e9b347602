// Drives shaders/reduce_stats.wgsl: Σ loss and Σ correct over n samples into out[2·slot], out[2·slot+1].
import src from '../../shaders/reduce_stats.wgsl?raw'
import { createKernelPipeline, uniformWords } from './kernel.ts'
import type { Recorder } from './recorder.ts'

/** One workgroup of this many invocations (a power of two, within the default 256 limit). */
const WG = 256

export class ReduceStatsKernel {
  private readonly pipeline: GPUComputePipeline

  constructor(device: GPUDevice) {
    this.pipeline = createKernelPipeline(device, 'reduce_stats', src, { WG })
  }

  record(r: Recorder, b: { loss: GPUBuffer; correct: GPUBuffer; out: GPUBuffer }, p: { n: number; slot: number }): void {
    const params = r.uniform('reduce_stats', uniformWords([p.n, p.slot, 0, 0]))
    r.dispatch(this.pipeline, [params, b.loss, b.correct, b.out], [1, 1])
  }
}
