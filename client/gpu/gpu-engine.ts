// The WebGPU engine: model, shard and scratch buffers on the GPU; one submit and one readback per step.
import type { MlrDims, MlrParams } from '../../model/mlr.ts'
import { GrowableBuffer, ReadbackPool } from './buffers.ts'
import { checkDims, checkLength, checkRows } from './checks.ts'
import { DenseUpdateKernel } from './dense-update-kernel.ts'
import type { Engine, StepResult } from './engine.ts'
import { ForwardKernel } from './forward-kernel.ts'
import { RankUpdateKernel } from './rank-update-kernel.ts'
import { Recorder } from './recorder.ts'
import { ReduceStatsKernel } from './reduce-stats-kernel.ts'
import { SoftmaxGradKernel } from './softmax-grad-kernel.ts'

/** Rows of an evaluate() set uploaded and run per submit. */
const EVAL_BLOCK = 4096

/** Use createGpuEngine() from engine.ts. GPU layout of a model: W (K×J) then b (K), like a dense update frame. */
export class GpuEngine implements Engine {
  readonly kind = 'webgpu' as const
  private readonly size: number
  private readonly model: GPUBuffer
  /** A dense update: built by a dense step, or uploaded by applyDense. */
  private readonly delta: GPUBuffer
  private readonly buf: Record<
    'shardX' | 'shardY' | 'evalX' | 'evalY' | 'logits' | 'U' | 'loss' | 'correct' | 'peerU' | 'peerV' | 'stats',
    GrowableBuffer
  >
  private readonly readback: ReadbackPool
  private readonly forward: ForwardKernel
  private readonly softmax: SoftmaxGradKernel
  private readonly rank: RankUpdateKernel
  private readonly denseUpdate: DenseUpdateKernel
  private readonly reduce: ReduceStatsKernel
  private n = 0

  constructor(
    private readonly device: GPUDevice,
    readonly dims: MlrDims,
  ) {
    checkDims(dims)
    const { STORAGE, COPY_SRC, COPY_DST } = GPUBufferUsage
    this.size = dims.K * dims.J + dims.K
    const params = (label: string) =>
      device.createBuffer({ label, size: this.size * 4, usage: STORAGE | COPY_SRC | COPY_DST })
    this.model = params('model')
    this.delta = params('delta')
    const grow = (label: string, usage: GPUBufferUsageFlags) => new GrowableBuffer(device, label, usage)
    this.buf = {
      shardX: grow('shard.x', STORAGE | COPY_DST),
      shardY: grow('shard.labels', STORAGE | COPY_DST),
      evalX: grow('eval.x', STORAGE | COPY_DST),
      evalY: grow('eval.labels', STORAGE | COPY_DST),
      logits: grow('batch.logits', STORAGE),
      U: grow('batch.U', STORAGE | COPY_SRC),
      loss: grow('batch.loss', STORAGE),
      correct: grow('batch.correct', STORAGE),
      peerU: grow('peer.U', STORAGE | COPY_DST),
      peerV: grow('peer.V', STORAGE | COPY_DST),
      stats: grow('stats', STORAGE | COPY_SRC),
    }
    this.readback = new ReadbackPool(device)
    this.forward = new ForwardKernel(device)
    this.softmax = new SoftmaxGradKernel(device)
    this.rank = new RankUpdateKernel(device)
    this.denseUpdate = new DenseUpdateKernel(device)
    this.reduce = new ReduceStatsKernel(device)
  }

  setModel(p: MlrParams): void {
    const { K, J } = this.dims
    checkLength('W', p.W, K * J)
    checkLength('b', p.b, K)
    this.device.queue.writeBuffer(this.model, 0, p.W, 0, K * J)
    this.device.queue.writeBuffer(this.model, K * J * 4, p.b, 0, K)
  }

  async readModel(): Promise<MlrParams> {
    const { K, J } = this.dims
    const staging = this.readback.acquire(this.size * 4)
    const r = new Recorder(this.device, 'readModel')
    r.copy(this.model, 0, staging, 0, this.size * 4)
    r.submit()
    const out = await this.readback.read(staging, this.size)
    return { W: out.slice(0, K * J), b: out.slice(K * J) }
  }

  loadShard(x: Float32Array, y: Uint8Array, n: number): void {
    const { J } = this.dims
    checkLength('shard features', x, n * J)
    checkLength('shard labels', y, n)
    const limit = this.device.limits.maxStorageBufferBindingSize
    if (n * J * 4 > limit) throw new RangeError(`a shard of ${n}×${J} floats exceeds the GPU's ${limit}-byte binding`)
    this.device.queue.writeBuffer(this.buf.shardX.ensure(n * J * 4), 0, x, 0, n * J)
    this.device.queue.writeBuffer(this.buf.shardY.ensure(n * 4), 0, labelsU32(y, 0, n))
    this.n = n
  }

  async step(row0: number, rows: number, scale: number, mode: 'factors' | 'dense'): Promise<StepResult> {
    checkRows(row0, rows, this.n)
    const { K, J } = this.dims
    const x = this.buf.shardX.ensure(this.n * J * 4)
    const s = this.scratch(rows)
    const dense = mode === 'dense'
    const r = new Recorder(this.device, `step.${mode}`)
    this.forward.record(r, { x, model: this.model, logits: s.logits }, { row0, rows, K, J })
    this.softmax.record(r, { ...s, labels: this.buf.shardY.ensure(this.n * 4) }, { row0, rows, K, scale })
    this.reduce.record(r, { ...s, out: s.stats }, { n: rows, slot: 0 })
    if (dense) {
      r.clear(this.delta)
      this.rank.record(r, { U: s.U, V: x, model: this.delta }, { K, J, rows, v0: row0 })
      this.denseUpdate.record(r, { delta: this.delta, model: this.model }, this.size)
    } else {
      this.rank.record(r, { U: s.U, V: x, model: this.model }, { K, J, rows, v0: row0 })
    }
    // One staging buffer: [loss, correct | U (rows×K) | dW (K×J), db (K)].
    const uAt = 2
    const dAt = uAt + rows * K
    const floats = dAt + (dense ? this.size : 0)
    const staging = this.readback.acquire(floats * 4)
    r.copy(s.stats, 0, staging, 0, 8)
    r.copy(s.U, 0, staging, uAt * 4, rows * K * 4)
    if (dense) r.copy(this.delta, 0, staging, dAt * 4, this.size * 4)
    r.submit()
    const out = await this.readback.read(staging, floats)
    const result: StepResult = { U: out.slice(uAt, dAt), loss: out[0], correct: out[1] }
    if (dense) result.dense = { W: out.slice(dAt, dAt + K * J), b: out.slice(dAt + K * J, floats) }
    return result
  }

  applyFactors(U: Float32Array, V: Float32Array, rows: number): void {
    const { K, J } = this.dims
    if (rows === 0) return
    checkLength('U', U, rows * K)
    checkLength('V', V, rows * J)
    const u = this.buf.peerU.ensure(rows * K * 4)
    const v = this.buf.peerV.ensure(rows * J * 4)
    this.device.queue.writeBuffer(u, 0, U, 0, rows * K)
    this.device.queue.writeBuffer(v, 0, V, 0, rows * J)
    const r = new Recorder(this.device, 'applyFactors')
    this.rank.record(r, { U: u, V: v, model: this.model }, { K, J, rows, v0: 0 })
    r.submit()
  }

  applyDense(dW: Float32Array, db: Float32Array): void {
    const { K, J } = this.dims
    checkLength('dW', dW, K * J)
    checkLength('db', db, K)
    this.device.queue.writeBuffer(this.delta, 0, dW, 0, K * J)
    this.device.queue.writeBuffer(this.delta, K * J * 4, db, 0, K)
    const r = new Recorder(this.device, 'applyDense')
    this.denseUpdate.record(r, { delta: this.delta, model: this.model }, this.size)
    r.submit()
  }

  async evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }> {
    const { K, J } = this.dims
    checkLength('features', x, n * J)
    checkLength('labels', y, n)
    if (n === 0) return { loss: 0, correct: 0 }
    const fit = Math.floor(this.device.limits.maxStorageBufferBindingSize / (J * 4))
    const block = Math.max(1, Math.min(n, EVAL_BLOCK, fit))
    const blocks = Math.ceil(n / block)
    const X = this.buf.evalX.ensure(block * J * 4)
    const Y = this.buf.evalY.ensure(block * 4)
    const s = this.scratch(block, blocks)
    const staging = this.readback.acquire(blocks * 8)
    for (let c = 0; c < blocks; c++) {
      const row0 = c * block
      const rows = Math.min(block, n - row0)
      this.device.queue.writeBuffer(X, 0, x, row0 * J, rows * J)
      this.device.queue.writeBuffer(Y, 0, labelsU32(y, row0, rows))
      const r = new Recorder(this.device, 'evaluate')
      this.forward.record(r, { x: X, model: this.model, logits: s.logits }, { row0: 0, rows, K, J })
      this.softmax.record(r, { ...s, labels: Y }, { row0: 0, rows, K, scale: 0 })
      this.reduce.record(r, { ...s, out: s.stats }, { n: rows, slot: c })
      if (c === blocks - 1) r.copy(s.stats, 0, staging, 0, blocks * 8)
      r.submit()
    }
    const out = await this.readback.read(staging, blocks * 2)
    let loss = 0
    let correct = 0
    for (let c = 0; c < blocks; c++) {
      loss += out[2 * c]
      correct += out[2 * c + 1]
    }
    return { loss, correct }
  }

  destroy(): void {
    this.model.destroy()
    this.delta.destroy()
    for (const b of Object.values(this.buf)) b.destroy()
    this.readback.destroy()
    this.n = 0
  }

  /** Per-batch buffers for `rows` samples, and `slots` pairs of stats. */
  private scratch(rows: number, slots = 1) {
    const { K } = this.dims
    return {
      logits: this.buf.logits.ensure(rows * K * 4),
      U: this.buf.U.ensure(rows * K * 4),
      loss: this.buf.loss.ensure(rows * 4),
      correct: this.buf.correct.ensure(rows * 4),
      stats: this.buf.stats.ensure(slots * 8),
    }
  }
}

function labelsU32(y: Uint8Array, start: number, count: number): Uint32Array {
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = y[start + i]
  return out
}
