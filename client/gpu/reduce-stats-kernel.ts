// Drives shaders/reduce_stats.wgsl: Σ loss and Σ correct over n samples into out[2·slot], out[2·slot+1].
import src from '../../shaders/reduce_stats.wgsl?raw'
import { params, pipeline } from './kernel.ts'
import type { Recorder } from './recorder.ts'

/** One workgroup of this many invocations (a power of two, within the default 256 limit). */
const WG = 256

export class ReduceStatsKernel {
  constructor(private readonly device: GPUDevice) {}

  record(r: Recorder, b: { loss: GPUBuffer; correct: GPUBuffer; out: GPUBuffer }, p: { n: number; slot: number }): void {
    r.dispatch(pipeline(this.device, 'reduce_stats', src, { WG }), params({ n: p.n, slot: p.slot }), [b.loss, b.correct, b.out], [1, 1])
  }
}
