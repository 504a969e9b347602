// Drives shaders/matmul.wgsl: C = α·op(A)·op(B) + β·C at element offsets, tile shape picked per problem, split-K
// (partial tiles summed by the column-sum kernel) when a long, thin product would leave most of the GPU idle.
import src from '../../shaders/matmul.wgsl?raw'
import type { MatmulShape } from '../../model/layers/matmul.ts'
import { ColSumsKernel } from './col-sums-kernel.ts'
import { checkGrid, grid, params, pipeline, type View } from './kernel.ts'
import type { Recorder } from './recorder.ts'

/** The problem, as model/layers/matmul.ts (the reference) states it; offsets come with the views. */
export type MatmulArgs = MatmulShape

/**
 * Workgroups are 64 invocations of 4×4 outputs each. The square shape (8×8: 32×32 of C, tfjs's default) loads the
 * fewest operand words per output; a narrow one (e.g. 2×32: 128×8 of C) is used where it pads a thin product (a conv
 * layer with 8 filters) to at least a quarter less work.
 */
const SHAPES: readonly [number, number][] = [
  [8, 8],
  [2, 32],
  [4, 16],
  [16, 4],
  [32, 2],
]
const NARROW_GAIN = 0.75
const TK = 16
/** Below this many output tiles a long product is split along its depth. */
const SPLIT_BELOW_TILES = 16
/** Depth each split covers at least. */
const SPLIT_MIN_DEPTH = 256
const SPLIT_MAX = 64
/** Floats of partial tiles (M·N per split) the scratch holds; sized once so recordings in flight keep it. */
const SCRATCH_FLOATS = 1 << 20

export class MatmulKernel {
  private scratch: GPUBuffer | null = null

  /** `foldAt`: fold the tile grid into 2-D past this many workgroups (default: the device's limit; tests lower it). */
  constructor(
    private readonly device: GPUDevice,
    private readonly sums = new ColSumsKernel(device),
    private readonly foldAt = device.limits.maxComputeWorkgroupsPerDimension,
  ) {}

  /** Workgroup shape, tiles of C (along N, along M) and split of the depth for a problem (exposed for tests and the bench). */
  plan(a: MatmulArgs): { wgX: number; wgY: number; tiles: [number, number]; splits: number; kPer: number } {
    const padded = ([x, y]: readonly [number, number]) => Math.ceil(a.N / (4 * x)) * 4 * x * Math.ceil(a.M / (4 * y)) * 4 * y
    let [wgX, wgY] = SHAPES[0]
    let best = padded(SHAPES[0]) * NARROW_GAIN
    for (const s of SHAPES.slice(1)) {
      if (padded(s) <= best) [[wgX, wgY], best] = [s, padded(s)]
    }
    const tiles: [number, number] = [Math.ceil(a.N / (4 * wgX)), Math.ceil(a.M / (4 * wgY))]
    let splits = 1
    if (tiles[0] * tiles[1] < SPLIT_BELOW_TILES && a.Kd >= 2 * SPLIT_MIN_DEPTH) {
      splits = Math.min(SPLIT_MAX, Math.floor(a.Kd / SPLIT_MIN_DEPTH), Math.floor(SCRATCH_FLOATS / (a.M * a.N)))
    }
    if (splits <= 1) return { wgX, wgY, tiles, splits: 1, kPer: Math.max(a.Kd, 1) }
    const kPer = Math.ceil(a.Kd / splits / TK) * TK
    return { wgX, wgY, tiles, splits: Math.ceil(a.Kd / kPer), kPer }
  }

  record(r: Recorder, A: View, B: View, C: View, a: MatmulArgs): void {
    const { M, N, Kd } = a
    if (M === 0 || N === 0) return
    const alpha = a.alpha ?? 1
    const beta = a.beta ?? 0
    const { wgX, wgY, tiles, splits, kPer } = this.plan(a)
    const groups: [number, number, number] = [...grid(this.device, tiles[0] * tiles[1], 1, this.foldAt), splits]
    checkGrid(this.device, `matmul ${M}×${N}×${Kd}`, groups)
    const p = pipeline(this.device, 'matmul', src, {
      WG_X: wgX,
      WG_Y: wgY,
      TK,
      TRANS_A: a.transA ? 1 : 0,
      TRANS_B: a.transB ? 1 : 0,
    })
    if (splits === 1) {
      const u = params({ M, N, Kd, kPer, offA: A.offset, offB: B.offset, offC: C.offset, alpha, beta }, ['alpha', 'beta'])
      r.dispatch(p, u, [A.buffer, B.buffer, C.buffer], groups)
      return
    }
    const scratch = this.scratchBuffer()
    const u = params({ M, N, Kd, kPer, offA: A.offset, offB: B.offset, offC: 0, alpha, beta: 0 }, ['alpha', 'beta'])
    r.dispatch(p, u, [A.buffer, B.buffer, scratch], groups)
    this.sums.record(r, { buffer: scratch, offset: 0 }, C, { rows: splits, cols: M * N, beta })
  }

  destroy(): void {
    this.scratch?.destroy()
    this.scratch = null
    this.sums.destroy()
  }

  private scratchBuffer(): GPUBuffer {
    this.scratch ??= this.device.createBuffer({ label: 'matmul.splitK', size: SCRATCH_FLOATS * 4, usage: GPUBufferUsage.STORAGE })
    return this.scratch
  }
}
