// One submit's worth of GPU work: dispatches, copies and clears in order, every dispatch's uniforms in ONE buffer.

type Op =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; slot: number; bytes: number; buffers: GPUBuffer[]; groups: [number, number, number] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number }
  | { kind: 'clear'; buf: GPUBuffer; offset: number; size?: number }

/**
 * Records kernels for one queue submit. Each dispatch's uniform block goes into its own 256-byte-aligned slot of a
 * single uniform buffer, bound with an offset, so one kernel can run many times in a submit with different
 * parameters; the buffer is written and the commands encoded at submit().
 *
 * @example
 * const r = new Recorder(device, 'step')
 * r.dispatch(pipeline, params({ n: 64 }), [x, out], [4, 1])
 * r.copy(out, 0, staging, 0, 64)
 * r.submit()
 */
export class Recorder {
  private readonly ops: Op[] = []
  private readonly blocks: ArrayBuffer[] = []
  private readonly align: number

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {
    this.align = Math.max(256, device.limits.minUniformBufferOffsetAlignment)
  }

  /** Dispatches `pipeline` with `uniforms` at @binding(0) and `buffers` at @binding(1), (2), … of @group(0). */
  dispatch(pipeline: GPUComputePipeline, uniforms: ArrayBuffer, buffers: GPUBuffer[], [x, y, z = 1]: [number, number, number?]): void {
    if (x === 0 || y === 0 || z === 0) return
    this.ops.push({ kind: 'dispatch', pipeline, slot: this.blocks.length, bytes: uniforms.byteLength, buffers, groups: [x, y, z] })
    this.blocks.push(uniforms)
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    if (size > 0) this.ops.push({ kind: 'copy', src, srcOffset, dst, dstOffset, size })
  }

  clear(buf: GPUBuffer, offset = 0, size?: number): void {
    this.ops.push({ kind: 'clear', buf, offset, size })
  }

  /** How many dispatches are recorded so far. */
  get dispatches(): number {
    return this.blocks.length
  }

  /** Writes the uniforms, encodes everything in order and submits it; nothing is queued when nothing was recorded. */
  submit(): void {
    if (this.ops.length === 0) return
    const uniforms = this.uniformBuffer()
    const encoder = this.device.createCommandEncoder({ label: `${this.label}.encoder` })
    let pass: GPUComputePassEncoder | null = null
    for (const op of this.ops) {
      if (op.kind === 'dispatch') {
        pass ??= encoder.beginComputePass({ label: `${this.label}.pass` })
        const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms!, offset: op.slot * this.align, size: op.bytes } }]
        op.buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }))
        pass.setPipeline(op.pipeline)
        pass.setBindGroup(0, this.device.createBindGroup({ label: `${this.label}.${op.pipeline.label}`, layout: op.pipeline.getBindGroupLayout(0), entries }))
        pass.dispatchWorkgroups(...op.groups)
        continue
      }
      pass?.end()
      pass = null
      if (op.kind === 'copy') encoder.copyBufferToBuffer(op.src, op.srcOffset, op.dst, op.dstOffset, op.size)
      else encoder.clearBuffer(op.buf, op.offset, op.size)
    }
    pass?.end()
    this.device.queue.submit([encoder.finish({ label: `${this.label}.commands` })])
    // Destroying after submit is safe: the queue keeps it alive until the work that uses it has run.
    uniforms?.destroy()
    this.ops.length = 0
    this.blocks.length = 0
  }

  private uniformBuffer(): GPUBuffer | null {
    if (this.blocks.length === 0) return null
    const buf = this.device.createBuffer({
      label: `${this.label}.uniforms`,
      size: this.blocks.length * this.align,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    })
    const bytes = new Uint8Array(buf.getMappedRange())
    this.blocks.forEach((b, i) => bytes.set(new Uint8Array(b), i * this.align))
    buf.unmap()
    return buf
  }
}
