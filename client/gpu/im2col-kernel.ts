// Drives shaders/im2col.wgsl: the patch matrix (rows·outH·outW × kh·kw·C) of a conv layer's NHWC input.
import type { WindowGeom } from '../../model/layers/types.ts'
import src from '../../shaders/im2col.wgsl?raw'
import { grid, pipeline, windowParams, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class Im2colKernel {
  constructor(private readonly device: GPUDevice) {}

  /** patches, written from element 0, = im2col(x). */
  record(r: Recorder, x: View, patches: GPUBuffer, g: WindowGeom, rows: number): void {
    const count = rows * g.outH * g.outW * g.kh * g.kw * g.inC
    r.dispatch(pipeline(this.device, 'im2col', src, { WG }), windowParams(g, rows, { xOff: x.offset }), [x.buffer, patches], grid(this.device, count, WG))
  }
}
