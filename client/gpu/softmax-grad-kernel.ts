// Drives shaders/softmax_grad.wgsl: per-sample factors U, loss and correct from logits and labels.
import src from '../../shaders/softmax_grad.wgsl?raw'
import { createKernelPipeline, grid, uniformWords } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class SoftmaxGradKernel {
  private readonly pipeline: GPUComputePipeline

  constructor(private readonly device: GPUDevice) {
    this.pipeline = createKernelPipeline(device, 'softmax_grad', src, { WG })
  }

  /** logits: rows×K; labels: u32, read at row0+i; U: rows×K, loss and correct: rows, out. */
  record(
    r: Recorder,
    b: { logits: GPUBuffer; labels: GPUBuffer; U: GPUBuffer; loss: GPUBuffer; correct: GPUBuffer },
    p: { row0: number; rows: number; K: number; scale: number },
  ): void {
    const params = r.uniform('softmax_grad', uniformWords([p.row0, p.rows, p.K, p.scale], [3]))
    const groups = grid(p.rows, WG, this.device.limits.maxComputeWorkgroupsPerDimension)
    r.dispatch(this.pipeline, [params, b.logits, b.labels, b.U, b.loss, b.correct], groups)
  }
}
