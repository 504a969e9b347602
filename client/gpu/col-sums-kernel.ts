// Drives shaders/col_sums.wgsl: out (+)= column sums of rows×cols (bias gradients, split-K partials), in two passes
// when the rows are many: partial sums per row block into a scratch buffer, then their sum.
import src from '../../shaders/col_sums.wgsl?raw'
import { checkGrid, params, pipeline, pow2, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

/** Invocations per workgroup (the WebGPU default limit). */
const LANES = 256
/** Rows one workgroup sums before the work is split across workgroups. */
const ROWS_PER_GROUP = 256
/** Floats of partial sums the scratch holds: it is sized once, so recordings in flight never see it reallocated. */
const SCRATCH_FLOATS = 1 << 18

export interface ColSumsArgs {
  rows: number
  cols: number
  /** 0 overwrites out (its old contents are ignored); 1 accumulates. */
  beta?: number
}

export class ColSumsKernel {
  private scratch: GPUBuffer | null = null

  constructor(private readonly device: GPUDevice) {}

  record(r: Recorder, x: View, out: View, a: ColSumsArgs): void {
    const { rows, cols } = a
    const beta = a.beta ?? 0
    if (cols === 0) return
    const wgX = Math.min(pow2(cols), 64)
    const wgY = LANES / wgX
    const splits = Math.min(Math.ceil(rows / ROWS_PER_GROUP), Math.floor(SCRATCH_FLOATS / cols))
    if (splits <= 1) {
      this.pass(r, x, out, { rows, cols, rowsPer: Math.max(rows, 1), splits: 1, beta, wgX, wgY })
      return
    }
    const scratch = this.scratchBuffer()
    const rowsPer = Math.ceil(rows / splits)
    const used = Math.ceil(rows / rowsPer)
    this.pass(r, x, { buffer: scratch, offset: 0 }, { rows, cols, rowsPer, splits: used, beta: 0, wgX, wgY })
    this.pass(r, { buffer: scratch, offset: 0 }, out, { rows: used, cols, rowsPer: used, splits: 1, beta, wgX, wgY })
  }

  destroy(): void {
    this.scratch?.destroy()
    this.scratch = null
  }

  private pass(r: Recorder, x: View, out: View, p: { rows: number; cols: number; rowsPer: number; splits: number; beta: number; wgX: number; wgY: number }): void {
    const groups: [number, number] = [Math.ceil(p.cols / p.wgX), p.splits]
    checkGrid(this.device, 'col_sums', groups)
    const u = params({ rows: p.rows, cols: p.cols, inOff: x.offset, outOff: out.offset, rowsPer: p.rowsPer, beta: p.beta }, ['beta'])
    r.dispatch(pipeline(this.device, 'col_sums', src, { WG_X: p.wgX, WG_Y: p.wgY }), u, [x.buffer, out.buffer], groups)
  }

  private scratchBuffer(): GPUBuffer {
    this.scratch ??= this.device.createBuffer({ label: 'col_sums.partials', size: SCRATCH_FLOATS * 4, usage: GPUBufferUsage.STORAGE })
    return this.scratch
  }
}
