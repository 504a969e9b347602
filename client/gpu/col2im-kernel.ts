// Drives shaders/col2im.wgsl: a conv layer's input gradient from its patch gradient, as a gather.
import type { WindowGeom } from '../../model/layers/types.ts'
import src from '../../shaders/col2im.wgsl?raw'
import { grid, pipeline, windowParams, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class Col2imKernel {
  constructor(private readonly device: GPUDevice) {}

  /** dx (rows·inH·inW·C, overwritten) = col2im(dPatches), dPatches read from element 0. */
  record(r: Recorder, dPatches: GPUBuffer, dx: View, g: WindowGeom, rows: number): void {
    const count = rows * g.inH * g.inW * g.inC
    r.dispatch(pipeline(this.device, 'col2im', src, { WG }), windowParams(g, rows, { dxOff: dx.offset }), [dPatches, dx.buffer], grid(this.device, count, WG))
  }
}
