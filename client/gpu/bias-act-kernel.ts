// Drives shaders/bias_act.wgsl: the epilogue of dense and conv layers, y = act(y + b) in place.
import type { Activation } from '../../model/spec.ts'
import src from '../../shaders/bias_act.wgsl?raw'
import { grid, params, pipeline, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

/** Activation codes of shaders/common/activation.wgsl; softmax is linear here (the loss applies it). */
export const ACT_CODES: Record<Activation, number> = { linear: 0, softmax: 0, relu: 1, tanh: 2, sigmoid: 3 }

export class BiasActKernel {
  private noBias: GPUBuffer | null = null

  constructor(private readonly device: GPUDevice) {}

  /** y = act(y + b) over rows×cols, b (cols) at `bias`, or no bias; nothing to record for a linear layer without one. */
  record(r: Recorder, y: View, bias: View | undefined, p: { rows: number; cols: number; act: Activation }): void {
    const count = p.rows * p.cols
    if (!bias && ACT_CODES[p.act] === 0) return
    const u = params({ count, cols: p.cols, yOff: y.offset, bOff: bias?.offset ?? 0, hasBias: bias ? 1 : 0 })
    const pipe = pipeline(this.device, 'bias_act', src, { WG, ACT: ACT_CODES[p.act] })
    r.dispatch(pipe, u, [y.buffer, bias?.buffer ?? this.placeholder()], grid(this.device, count, WG))
  }

  destroy(): void {
    this.noBias?.destroy()
    this.noBias = null
  }

  /** The bias binding needs a buffer even when unused, and y's own would alias a writable binding. */
  private placeholder(): GPUBuffer {
    this.noBias ??= this.device.createBuffer({ label: 'bias_act.noBias', size: 16, usage: GPUBufferUsage.STORAGE })
    return this.noBias
  }
}
