// Drives shaders/max_pool_grad.wgsl: a max-pool layer's input gradient, dy routed back to each arg-max, as a gather.
import type { WindowGeom } from '../../model/layers/types.ts'
import src from '../../shaders/max_pool_grad.wgsl?raw'
import { grid, pipeline, windowParams, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class MaxPoolGradKernel {
  constructor(private readonly device: GPUDevice) {}

  /** dx (rows·inH·inW·C, overwritten) from dy and the forward pass's arg (u32, from element 0). */
  record(r: Recorder, dy: View, arg: GPUBuffer, dx: View, g: WindowGeom, rows: number): void {
    const count = rows * g.inH * g.inW * g.inC
    const u = windowParams(g, rows, { dyOff: dy.offset, dxOff: dx.offset })
    r.dispatch(pipeline(this.device, 'max_pool_grad', src, { WG }), u, [dy.buffer, arg, dx.buffer], grid(this.device, count, WG))
  }
}
