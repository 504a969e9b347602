// Drives shaders/softmax_ce.wgsl: per-sample loss and correct, and the scaled gradient at the logits.
import src from '../../shaders/softmax_ce.wgsl?raw'
import { grid, params, pipeline, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export interface SoftmaxCeBuffers {
  logits: View
  /** u32 labels of the whole shard, read from row0. */
  labels: GPUBuffer
  dLogits: View
  /** Per-sample loss and correct (rows each, from element 0). */
  loss: GPUBuffer
  correct: GPUBuffer
}

export class SoftmaxCeKernel {
  constructor(private readonly device: GPUDevice) {}

  record(r: Recorder, b: SoftmaxCeBuffers, p: { row0: number; rows: number; K: number; scale: number }): void {
    const u = params({ row0: p.row0, rows: p.rows, K: p.K, scale: p.scale, logitsOff: b.logits.offset, dOff: b.dLogits.offset }, ['scale'])
    const buffers = [b.logits.buffer, b.labels, b.dLogits.buffer, b.loss, b.correct]
    r.dispatch(pipeline(this.device, 'softmax_ce', src, { WG }), u, buffers, grid(this.device, p.rows, WG))
  }
}
