// Drives shaders/rank_update.wgsl: model += UᵀV (W) and ΣU (b), V read from row v0.
import src from '../../shaders/rank_update.wgsl?raw'
import { createKernelPipeline, grid, uniformWords } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class RankUpdateKernel {
  private readonly pipeline: GPUComputePipeline

  constructor(private readonly device: GPUDevice) {
    this.pipeline = createKernelPipeline(device, 'rank_update', src, { WG })
  }

  /** U: rows×K; V: rows of J from v0; model (W then b) is updated in place — pass a zeroed one to get dW, db. */
  record(
    r: Recorder,
    b: { U: GPUBuffer; V: GPUBuffer; model: GPUBuffer },
    p: { K: number; J: number; rows: number; v0: number },
  ): void {
    const params = r.uniform('rank_update', uniformWords([p.K, p.J, p.rows, p.v0]))
    const groups = grid(p.K * (p.J + 1), WG, this.device.limits.maxComputeWorkgroupsPerDimension)
    r.dispatch(this.pipeline, [params, b.U, b.V, b.model], groups)
  }
}
