// Drives shaders/lasso_coord.wgsl and shaders/lasso_residual.wgsl: a Lasso worker's round on the column block it
// holds, recorded as two dispatches of one submit (coordinate steps on the residual, then the residual change), or
// the coordinate steps alone where the residual change comes from elsewhere (the coordinator, on the grid).
import coordSrc from '../../shaders/lasso_coord.wgsl?raw'
import residualSrc from '../../shaders/lasso_residual.wgsl?raw'
import { grid, params, pipeline } from './kernel.ts'
import type { Recorder } from './recorder.ts'

/** Lanes of a pick's reduction (the WebGPU default workgroup limit). */
const LANES = 256
const WG = 64

/** The buffers of a round: X (the block, n rows per column, column-major), r, β of the block, and the outputs. */
export interface LassoRoundBuffers {
  x: GPUBuffer
  r: GPUBuffer
  /** Indices into the block's columns (u32), distinct. */
  picks: GPUBuffer
  beta: GPUBuffer
  /** One float per pick: β' − β. */
  delta: GPUBuffer
  /** n floats: Σ x_pick · delta, also taken off r. */
  dr: GPUBuffer
}

/** What the coordinate steps alone read and write: every round buffer but dr (r is only read). */
export type LassoStepBuffers = Omit<LassoRoundBuffers, 'dr'>

/**
 * @example
 * const k = new LassoRoundKernel(device)
 * k.record(recorder, bufs, { n: 2000, picks: 8, lambda: 0.5 })
 * recorder.submit() // then read delta and dr back
 * k.recordSteps(recorder, bufs, { n: 2000, picks: 8, lambda: 0.5 }) // a grid worker's task: delta and β only
 */
export class LassoRoundKernel {
  constructor(private readonly device: GPUDevice) {}

  record(rec: Recorder, b: LassoRoundBuffers, a: { n: number; picks: number; lambda: number }): void {
    if (a.picks === 0) return
    this.recordSteps(rec, b, a)
    const res = params({ n: a.n, picks: a.picks })
    rec.dispatch(pipeline(this.device, 'lasso_residual', residualSrc, { WG }), res, [b.x, b.picks, b.delta, b.r, b.dr], grid(this.device, a.n, WG))
  }

  /** The coordinate steps only: delta[k] and β[picks[k]] from the same r, which is left as it is. */
  recordSteps(rec: Recorder, b: LassoStepBuffers, a: { n: number; picks: number; lambda: number }): void {
    if (a.picks === 0) return
    const coord = params({ n: a.n, picks: a.picks, lambda: a.lambda }, ['lambda'])
    rec.dispatch(pipeline(this.device, 'lasso_coord', coordSrc, { LANES }), coord, [b.x, b.r, b.picks, b.beta, b.delta], grid(this.device, a.picks, 1))
  }
}
