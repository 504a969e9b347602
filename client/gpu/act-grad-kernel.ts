// Drives shaders/act_grad.wgsl: dy ← dy ⊙ act'(z) in place, from the activation's output y.
import type { Activation } from '../../model/spec.ts'
import src from '../../shaders/act_grad.wgsl?raw'
import { ACT_CODES } from './bias-act-kernel.ts'
import { grid, params, pipeline, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class ActGradKernel {
  constructor(private readonly device: GPUDevice) {}

  /** Nothing to record for linear (and softmax, whose gradient the loss already gave). */
  record(r: Recorder, dy: View, y: View, p: { count: number; act: Activation }): void {
    if (ACT_CODES[p.act] === 0) return
    const u = params({ count: p.count, dyOff: dy.offset, yOff: y.offset })
    r.dispatch(pipeline(this.device, 'act_grad', src, { WG, ACT: ACT_CODES[p.act] }), u, [dy.buffer, y.buffer], grid(this.device, p.count, WG))
  }
}
