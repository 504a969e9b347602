// The CPU fallback engine for tabs without WebGPU: the Engine interface on top of model/mlr.ts.
import {
  applyDense,
  applyFactors,
  evaluate,
  factorsToDense,
  forward,
  reduceStats,
  softmaxGrad,
  zeroParams,
  type MlrDims,
  type MlrParams,
} from '../../model/mlr.ts'
import { checkDims, checkLength, checkRows } from './checks.ts'
import type { Engine, StepResult } from './engine.ts'

class CpuEngine implements Engine {
  readonly kind = 'cpu' as const
  private p: MlrParams
  private x = new Float32Array(0)
  private y = new Uint8Array(0)
  private n = 0

  constructor(readonly dims: MlrDims) {
    checkDims(dims)
    this.p = zeroParams(dims)
  }

  setModel(p: MlrParams): void {
    const { K, J } = this.dims
    checkLength('W', p.W, K * J)
    checkLength('b', p.b, K)
    this.p = { W: p.W.slice(0, K * J), b: p.b.slice(0, K) }
  }

  async readModel(): Promise<MlrParams> {
    return { W: this.p.W.slice(), b: this.p.b.slice() }
  }

  /** Copies the rows, like the GPU upload, so the caller may reuse its arrays. */
  loadShard(x: Float32Array, y: Uint8Array, n: number): void {
    checkLength('shard features', x, n * this.dims.J)
    checkLength('shard labels', y, n)
    this.x = x.slice(0, n * this.dims.J)
    this.y = y.slice(0, n)
    this.n = n
  }

  async step(row0: number, rows: number, scale: number, mode: 'factors' | 'dense'): Promise<StepResult> {
    checkRows(row0, rows, this.n)
    const { dims, p, x, y } = this
    const g = softmaxGrad(dims.K, forward(dims, p, x, row0, rows), y, row0, rows, scale)
    const { loss, correct } = reduceStats(g.loss, g.correct)
    if (mode === 'factors') {
      applyFactors(dims, p, g.U, x, row0, rows)
      return { U: g.U, loss, correct }
    }
    const dense = factorsToDense(dims, g.U, x, row0, rows)
    applyDense(p, dense.W, dense.b)
    return { U: g.U, dense, loss, correct }
  }

  applyFactors(U: Float32Array, V: Float32Array, rows: number): void {
    checkLength('U', U, rows * this.dims.K)
    checkLength('V', V, rows * this.dims.J)
    applyFactors(this.dims, this.p, U, V, 0, rows)
  }

  applyDense(dW: Float32Array, db: Float32Array): void {
    checkLength('dW', dW, this.dims.K * this.dims.J)
    checkLength('db', db, this.dims.K)
    applyDense(this.p, dW.subarray(0, this.dims.K * this.dims.J), db.subarray(0, this.dims.K))
  }

  async evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }> {
    checkLength('features', x, n * this.dims.J)
    checkLength('labels', y, n)
    if (n === 0) return { loss: 0, correct: 0 }
    const m = evaluate(this.dims, this.p, x, y, n)
    return { loss: m.loss * n, correct: Math.round(m.accuracy * n) }
  }

  destroy(): void {
    this.x = new Float32Array(0)
    this.y = new Uint8Array(0)
    this.n = 0
  }
}

/**
 * The CPU engine, the same interface as createGpuEngine.
 *
 * @example
 * const engine = 'gpu' in navigator ? createGpuEngine(device, dims) : createCpuEngine(dims)
 */
export function createCpuEngine(dims: MlrDims): Engine {
  return new CpuEngine(dims)
}
