// Drives shaders/forward.wgsl: logits = X[row0 : row0+rows] · Wᵀ + b.
import src from '../../shaders/forward.wgsl?raw'
import { createKernelPipeline, grid, uniformWords } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class ForwardKernel {
  private readonly pipeline: GPUComputePipeline

  constructor(private readonly device: GPUDevice) {
    this.pipeline = createKernelPipeline(device, 'forward', src, { WG })
  }

  /** x: n×J rows (read from row0); model: W then b; logits: rows×K out. */
  record(
    r: Recorder,
    b: { x: GPUBuffer; model: GPUBuffer; logits: GPUBuffer },
    p: { row0: number; rows: number; K: number; J: number },
  ): void {
    const params = r.uniform('forward', uniformWords([p.row0, p.rows, p.K, p.J]))
    const groups = grid(p.rows * p.K, WG, this.device.limits.maxComputeWorkgroupsPerDimension)
    r.dispatch(this.pipeline, [params, b.x, b.model, b.logits], groups)
  }
}
