// Drives shaders/max_pool.wgsl: each window's maximum and the index of its first arg-max within the sample.
import type { WindowGeom } from '../../model/layers/types.ts'
import src from '../../shaders/max_pool.wgsl?raw'
import { grid, pipeline, windowParams, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

const WG = 64

export class MaxPoolKernel {
  constructor(private readonly device: GPUDevice) {}

  /** y (f32, at its offset) and arg (u32, from element 0), rows·outH·outW·C each. */
  record(r: Recorder, x: View, y: View, arg: GPUBuffer, g: WindowGeom, rows: number): void {
    const count = rows * g.outH * g.outW * g.inC
    r.dispatch(pipeline(this.device, 'max_pool', src, { WG }), windowParams(g, rows, { xOff: x.offset, yOff: y.offset }), [x.buffer, y.buffer, arg], grid(this.device, count, WG))
  }
}
