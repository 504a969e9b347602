// The WebGPU engine over any planned model: the arena, shard and per-layer buffers on the GPU; a step is one submit
// and one readback of exactly what is sent; peers' parts are applied in call order.
import type { ModelPlan } from '../../model/plan.ts'
import type { Part, Path } from '../../model/update.ts'
import { Activations } from './activations.ts'
import { bufferLimit, checkFits, GrowableBuffer, ReadbackPool } from './buffers.ts'
import { checkLabels, checkLength, checkParts, checkRows } from './checks.ts'
import type { Engine, StepOutput } from './engine.ts'
import type { View } from './kernel.ts'
import { Kernels } from './kernels.ts'
import { layerProgram } from './layers/index.ts'
import type { LayerContext, LayerProgram, PartSource } from './layers/types.ts'
import { Recorder } from './recorder.ts'
import { StepReadback } from './step-readback.ts'

/** Rows of an evaluate() set uploaded and run per submit, at most; fewer when a block's largest buffer would pass
 * EVAL_BUFFER_BYTES, so evaluating does not grow a tab's buffers far past what training needs. */
const EVAL_BLOCK = 4096
const EVAL_BUFFER_BYTES = 32 << 20

class GpuEngine implements Engine {
  readonly kind = 'webgpu' as const
  private readonly kernels: Kernels
  private readonly model: GPUBuffer
  private readonly grads: GPUBuffer
  private readonly programs: LayerProgram[]
  private readonly acts: Activations
  /** needDx[l]: an earlier layer has parameters, so layer l's input gradient is wanted. */
  private readonly needDx: boolean[]
  /** Floats per sample of the largest per-batch buffer (an activation, a patch matrix). */
  private readonly perRow: number
  /** The most rows one submit can hold within the device's binding size. */
  private readonly maxRows: number
  private readonly buf: Record<'shardX' | 'shardY' | 'evalX' | 'evalY' | 'loss' | 'correct' | 'stats' | 'upload', GrowableBuffer>
  private readonly readback: ReadbackPool
  /** One recorder per kind of submit: each keeps its uniform buffer and bind groups from call to call. */
  private readonly rec: Record<'step' | 'apply' | 'evaluate' | 'readModel', Recorder>
  /** The shard as the host passed it: V of a first dense layer is read from here, not back from the GPU. */
  private hostX: Float32Array<ArrayBufferLike> = new Float32Array(0)
  private n = 0

  constructor(
    private readonly device: GPUDevice,
    readonly plan: ModelPlan,
  ) {
    const { STORAGE, COPY_SRC, COPY_DST } = GPUBufferUsage // not at module level: Node installs the globals later
    const arenaBytes = Math.max(16, plan.size * 4)
    checkFits(device, `the model's ${plan.size} parameters`, arenaBytes)
    this.model = device.createBuffer({ label: 'model', size: arenaBytes, usage: STORAGE | COPY_SRC | COPY_DST })
    this.grads = device.createBuffer({ label: 'model.grads', size: arenaBytes, usage: STORAGE | COPY_SRC })
    this.kernels = new Kernels(device)
    const ctx: LayerContext = { device, kernels: this.kernels, tensors: plan.tensors, model: this.model, grads: this.grads }
    this.programs = plan.layers.map((l) => layerProgram(ctx, l))
    this.acts = new Activations(device, this.programs, plan.inputSize)
    this.needDx = plan.layers.map((_, l) => plan.layers.slice(0, l).some((e) => e.tensors.length > 0))
    this.perRow = Math.max(this.acts.maxWidth, ...this.programs.map((p) => p.floatsPerRow))
    this.maxRows = Math.floor(bufferLimit(device, STORAGE) / (this.perRow * 4))
    if (this.maxRows < 1) throw new RangeError(`one sample of ${plan.name} needs ${this.perRow * 4} bytes in one buffer; this GPU binds at most ${bufferLimit(device, STORAGE)}`)
    const grow = (label: string, usage: GPUBufferUsageFlags) => new GrowableBuffer(device, label, usage)
    this.buf = {
      shardX: grow('shard.x', STORAGE | COPY_DST),
      shardY: grow('shard.labels', STORAGE | COPY_DST),
      evalX: grow('eval.x', STORAGE | COPY_DST),
      evalY: grow('eval.labels', STORAGE | COPY_DST),
      loss: grow('batch.loss', STORAGE),
      correct: grow('batch.correct', STORAGE),
      stats: grow('batch.stats', STORAGE | COPY_SRC),
      upload: grow('apply.parts', STORAGE | COPY_DST),
    }
    this.readback = new ReadbackPool(device)
    const rec = (label: string) => new Recorder(device, label)
    this.rec = { step: rec('step'), apply: rec('apply'), evaluate: rec('evaluate'), readModel: rec('readModel') }
  }

  setModel(arena: Float32Array): void {
    checkLength('model', arena, this.plan.size)
    this.device.queue.writeBuffer(this.model, 0, arena, 0, this.plan.size)
  }

  async readModel(): Promise<Float32Array> {
    const staging = this.readback.acquire(this.plan.size * 4)
    const r = this.rec.readModel
    r.copy(this.model, 0, staging, 0, this.plan.size * 4)
    r.submit()
    return this.readback.read(staging, this.plan.size)
  }

  /** Keeps a reference to `x` (V of a first dense layer comes from it): do not change it while the shard is loaded. */
  loadShard(x: Float32Array, y: Uint8Array, n: number): void {
    const J = this.plan.inputSize
    checkLength('shard features', x, n * J)
    checkLabels(y, n, this.plan.classes)
    this.device.queue.writeBuffer(this.buf.shardX.ensure(n * J * 4), 0, x, 0, n * J)
    this.device.queue.writeBuffer(this.buf.shardY.ensure(n * 4), 0, labelsU32(y, 0, n))
    this.hostX = x
    this.n = n
  }

  async step(row0: number, rows: number, scale: number, paths: readonly Path[]): Promise<StepOutput> {
    checkRows(row0, rows, this.n)
    this.checkBatch(rows)
    const J = this.plan.inputSize
    const shard = this.buf.shardX.ensure(this.n * J * 4)
    const r = this.rec.step
    const { xs, ys } = this.forward(r, { buffer: shard, offset: row0 * J }, rows)
    const stats = this.loss(r, ys[ys.length - 1], this.buf.shardY.ensure(this.n * 4), row0, rows, scale, 0)
    const sources: PartSource[] = []
    for (let l = this.programs.length - 1; l >= 0; l--) {
      const p = this.programs[l]
      if (p.passThrough) continue
      const dx = this.needDx[l] ? this.acts.grad(this.acts.inSlot[l], rows) : undefined
      sources.push(...p.backward(r, { x: xs[l], y: ys[l], dy: this.acts.grad(this.acts.outSlot[l], rows), dx, rows, paths }))
    }
    const out = new StepReadback(this.plan, sources, rows, { grads: this.grads, shard, hostRows: this.hostX.subarray(row0 * J, (row0 + rows) * J) })
    const staging = this.readback.acquire(out.floats * 4)
    out.record(r, stats, staging)
    r.submit()
    return out.result(await this.readback.read(staging, out.floats))
  }

  apply(parts: readonly Part[], rows: number): void {
    checkParts(this.plan, parts, rows)
    if (parts.length === 0) return
    const total = parts.reduce((s, p) => s + p.floats.length, 0)
    const all = new Float32Array(total)
    const upload = this.buf.upload.ensure(total * 4)
    const r = this.rec.apply
    const k = this.kernels
    let at = 0
    for (const p of parts) {
      const t = this.plan.tensors[p.tensor]
      all.set(p.floats, at)
      const W = { buffer: this.model, offset: t.offset }
      if (p.form === 'factors') {
        const U = { buffer: upload, offset: at }
        const V = { buffer: upload, offset: at + rows * t.rows }
        k.matmul.record(r, U, V, W, { M: t.rows, N: t.cols, Kd: rows, transA: true, beta: 1 })
      } else {
        k.add.record(r, W, { buffer: upload, offset: at }, t.size)
      }
      at += p.floats.length
    }
    if (total > 0) this.device.queue.writeBuffer(upload, 0, all)
    r.submit()
  }

  async evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }> {
    const J = this.plan.inputSize
    checkLength('features', x, n * J)
    checkLabels(y, n, this.plan.classes)
    if (n === 0) return { loss: 0, correct: 0 }
    const block = Math.max(1, Math.min(n, EVAL_BLOCK, this.maxRows, Math.floor(EVAL_BUFFER_BYTES / (this.perRow * 4))))
    const blocks = Math.ceil(n / block)
    const X = this.buf.evalX.ensure(block * J * 4)
    const Y = this.buf.evalY.ensure(block * 4)
    const staging = this.readback.acquire(blocks * 8)
    for (let c = 0; c < blocks; c++) {
      const row0 = c * block
      const rows = Math.min(block, n - row0)
      this.device.queue.writeBuffer(X, 0, x, row0 * J, rows * J)
      this.device.queue.writeBuffer(Y, 0, labelsU32(y, row0, rows))
      const r = this.rec.evaluate
      const { ys } = this.forward(r, { buffer: X, offset: 0 }, rows)
      const stats = this.loss(r, ys[ys.length - 1], Y, 0, rows, 0, c, blocks)
      if (c === blocks - 1) r.copy(stats, 0, staging, 0, blocks * 8)
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
    this.grads.destroy()
    for (const b of Object.values(this.buf)) b.destroy()
    for (const p of this.programs) p.destroy()
    this.acts.destroy()
    this.kernels.destroy()
    this.readback.destroy()
    for (const r of Object.values(this.rec)) r.destroy()
    this.hostX = new Float32Array(0)
    this.n = 0
  }

  private checkBatch(rows: number): void {
    if (rows > this.maxRows) throw new RangeError(`a batch of ${rows} rows does not fit this GPU's storage binding size; ${this.plan.name} takes at most ${this.maxRows}`)
  }

  /** Records every layer's forward pass from `input`; xs[l] and ys[l] are layer l's input and output. */
  private forward(r: Recorder, input: View, rows: number): { xs: View[]; ys: View[] } {
    const xs: View[] = []
    const ys: View[] = []
    let x = input
    for (const [l, p] of this.programs.entries()) {
      const y = p.passThrough ? x : this.acts.act(this.acts.outSlot[l], rows)
      p.forward(r, { x, y, rows })
      xs.push(x)
      ys.push(y)
      x = y
    }
    return { xs, ys }
  }

  /** Records softmax cross-entropy at the logits (gradient into the last slot's dy) and its sums into stats[slot]. */
  private loss(r: Recorder, logits: View, labels: GPUBuffer, row0: number, rows: number, scale: number, slot: number, slots = 1): GPUBuffer {
    const last = this.programs.length - 1
    const loss = this.buf.loss.ensure(rows * 4)
    const correct = this.buf.correct.ensure(rows * 4)
    const stats = this.buf.stats.ensure(slots * 8)
    const dLogits = this.acts.grad(this.acts.outSlot[last], rows)
    this.kernels.softmaxCe.record(r, { logits, labels, dLogits, loss, correct }, { row0, rows, K: this.plan.classes, scale })
    this.kernels.reduceStats.record(r, { loss, correct, out: stats }, { n: rows, slot })
    return stats
  }
}

function labelsU32(y: Uint8Array, start: number, count: number): Uint32Array {
  const out = new Uint32Array(count)
  for (let i = 0; i < count; i++) out[i] = y[start + i]
  return out
}

/**
 * The WebGPU engine for a planned model on an injected device (never `navigator.gpu` here). Throws a RangeError when
 * the model cannot fit the device's limits.
 *
 * @example
 * const { device } = await openDevice(navigator.gpu, (why) => worker.leave(why))
 * const engine = createGpuEngine(device, planModel(presetSpec('cnn', 10), { features: 784, classes: 10, imageShape: [28, 28] }))
 */
export function createGpuEngine(device: GPUDevice, plan: ModelPlan): Engine {
  return new GpuEngine(device, plan)
}
