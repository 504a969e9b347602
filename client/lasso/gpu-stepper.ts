// A Lasso task's coordinate steps in WGSL (client/gpu/lasso-round-kernel.ts): X and r stay in GPU buffers, r rewritten
// when it changed, and one readback of the deltas per task.
import { TabgridError } from '../../protocol/errors.ts'
import { GrowableBuffer, ReadbackPool } from '../gpu/buffers.ts'
import { LassoRoundKernel } from '../gpu/lasso-round-kernel.ts'
import { Recorder } from '../gpu/recorder.ts'
import type { HeldColumns } from './held.ts'
import type { LassoStepper } from './stepper.ts'

/**
 * The WebGPU steps; `destroy()` frees every buffer it made (not the device, which is the caller's).
 *
 * @example
 * const s = new GpuLassoStepper(device, n)
 * await s.setColumns(held)
 * s.setResidual(r)
 * const deltas = await s.step(held.local(picks), beta, lambda)
 * s.destroy()
 */
export class GpuLassoStepper implements LassoStepper {
  readonly kind = 'webgpu' as const
  private readonly kernel: LassoRoundKernel
  private readonly rec: Recorder
  private readonly readback: ReadbackPool
  private readonly x: GrowableBuffer
  private readonly beta: GrowableBuffer
  private readonly picks: GrowableBuffer
  private readonly delta: GrowableBuffer
  private readonly r: GPUBuffer
  private rHost: Float32Array | null = null
  private rDirty = false
  /** β by held column, as last written to the GPU (the kernel writes β' there too; only picks are read). */
  private betaHost = new Float32Array(0)
  private cols = 0
  /** The size of X's buffer now. */
  private xBytes = 0
  private destroyed = false

  constructor(
    private readonly device: GPUDevice,
    private readonly n: number,
  ) {
    const { STORAGE, COPY_DST, COPY_SRC } = GPUBufferUsage
    this.kernel = new LassoRoundKernel(device)
    this.rec = new Recorder(device, 'lasso')
    this.readback = new ReadbackPool(device)
    this.x = new GrowableBuffer(device, 'lasso.x', STORAGE | COPY_DST)
    this.beta = new GrowableBuffer(device, 'lasso.beta', STORAGE | COPY_DST)
    this.picks = new GrowableBuffer(device, 'lasso.picks', STORAGE | COPY_DST)
    this.delta = new GrowableBuffer(device, 'lasso.delta', STORAGE | COPY_SRC)
    this.r = device.createBuffer({ label: 'lasso.r', size: Math.max(16, n * 4), usage: STORAGE | COPY_DST })
  }

  /** Uploads X; an out-of-memory or validation error (X too big for this GPU) is thrown, not left to the console. */
  async setColumns(held: HeldColumns): Promise<void> {
    this.device.pushErrorScope('validation')
    this.device.pushErrorScope('out-of-memory')
    let thrown: unknown = null
    try {
      // fewer columns than half the buffer holds: a smaller one, so that dropped blocks free GPU memory too
      if (this.xBytes > 2 * Math.max(16, held.x.byteLength)) this.x.destroy()
      const x = this.x.ensure(held.x.byteLength)
      this.xBytes = x.size
      this.device.queue.writeBuffer(x, 0, held.x)
      this.beta.ensure(held.cols * 4)
    } catch (e) {
      thrown = e // a RangeError from ensure(): the scopes are popped first, then it is thrown
    }
    const oom = await this.device.popErrorScope()
    const invalid = await this.device.popErrorScope()
    if (thrown) throw thrown
    const err = oom ?? invalid
    if (err) throw new TabgridError('ERR_TOO_LARGE', `the held columns (${held.cols} of ${held.n} rows) did not fit on the GPU: ${err.message}`)
    this.cols = held.cols
    if (this.betaHost.length !== held.cols) this.betaHost = new Float32Array(held.cols)
  }

  setResidual(r: Float32Array): void {
    this.rHost = r
    this.rDirty = true
  }

  async step(local: Uint32Array, beta: Float32Array, lambda: number): Promise<Float32Array> {
    if (this.destroyed) throw new TabgridError('ERR_JOB_CLOSED', 'the Lasso worker ended')
    const k = local.length
    if (k === 0) return new Float32Array(0)
    const { queue } = this.device
    if (this.rDirty && this.rHost) {
      queue.writeBuffer(this.r, 0, this.rHost)
      this.rDirty = false
    }
    let lo = this.cols
    let hi = -1
    for (let i = 0; i < k; i++) {
      const j = local[i]
      this.betaHost[j] = beta[i]
      lo = Math.min(lo, j)
      hi = Math.max(hi, j)
    }
    const betaBuf = this.beta.ensure(this.cols * 4)
    // only the span of the picks: the kernel reads β of picks alone
    queue.writeBuffer(betaBuf, lo * 4, this.betaHost, lo, hi - lo + 1)
    const picks = this.picks.ensure(k * 4)
    queue.writeBuffer(picks, 0, local)
    const delta = this.delta.ensure(k * 4)
    this.kernel.recordSteps(this.rec, { x: this.x.ensure(this.cols * this.n * 4), r: this.r, picks, beta: betaBuf, delta }, { n: this.n, picks: k, lambda })
    const staging = this.readback.acquire(k * 4)
    this.rec.copy(delta, 0, staging, 0, k * 4)
    this.rec.submit()
    return this.readback.read(staging, k)
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    this.rec.destroy()
    this.readback.destroy()
    this.x.destroy()
    this.beta.destroy()
    this.picks.destroy()
    this.delta.destroy()
    this.r.destroy()
  }
}
