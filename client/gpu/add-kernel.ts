// Drives shaders/add.wgsl: dst += src over `count` floats at their offsets (dense deltas into the model arena).
import src from '../../shaders/add.wgsl?raw'
import { grid, params, pipeline, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class AddKernel {
  constructor(private readonly device: GPUDevice) {}

  /** dst and src must be different buffers (a writable binding may not alias another). */
  record(r: Recorder, dst: View, from: View, count: number): void {
    const u = params({ count, dstOff: dst.offset, srcOff: from.offset })
    r.dispatch(pipeline(this.device, 'add', src, { WG }), u, [dst.buffer, from.buffer], grid(this.device, count, WG))
  }
}
