// One submit's worth of GPU work: dispatches, copies and clears in order, every dispatch's uniforms in ONE buffer
// that lives as long as the recorder, and bind groups made once and reused from submit to submit.

type Op =
  | { kind: 'dispatch'; pipeline: GPUComputePipeline; slot: number; bytes: number; buffers: GPUBuffer[]; groups: [number, number, number] }
  | { kind: 'copy'; src: GPUBuffer; srcOffset: number; dst: GPUBuffer; dstOffset: number; size: number }
  | { kind: 'clear'; buf: GPUBuffer; offset: number; size?: number }

/** Bind groups kept per recorder at most; past it the cache starts over (buffers that grew leave stale keys). */
const MAX_BIND_GROUPS = 1024

/** A small id per GPU object, for cache keys (WebGPU objects have no identity a Map key could read). */
const ids = new WeakMap<object, number>()
let nextId = 0
function idOf(o: object): number {
  let id = ids.get(o)
  if (id === undefined) ids.set(o, (id = ++nextId))
  return id
}

/**
 * Records kernels for one queue submit at a time, and can be used again after each submit. Each dispatch's uniform
 * block goes into its own 256-byte-aligned slot of the recorder's uniform buffer, bound with an offset, so one kernel
 * can run many times in a submit with different parameters. The buffer is created once (grown when a submit needs
 * more slots) and rewritten with one `writeBuffer` per submit, which the queue orders after the work already
 * submitted; a dispatch's bind group (pipeline, slot, buffers) is created once and reused, so a training step that
 * records the same kernels on the same buffers every clock creates no GPU objects at all.
 *
 * @example
 * const r = new Recorder(device, 'step')
 * r.dispatch(pipeline, params({ n: 64 }), [x, out], [4, 1])
 * r.copy(out, 0, staging, 0, 64)
 * r.submit()
 * r.destroy() // with the engine that owns it
 */
export class Recorder {
  private readonly ops: Op[] = []
  private readonly blocks: ArrayBuffer[] = []
  private readonly align: number
  private uniforms: GPUBuffer | null = null
  private readonly groups = new Map<string, GPUBindGroup>()
  /** Bind groups and uniform buffers created so far: what reuse saves is visible (tests, benchmarks). */
  readonly created = { bindGroups: 0, uniformBuffers: 0 }

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
    const uniforms = this.writeUniforms()
    const encoder = this.device.createCommandEncoder({ label: `${this.label}.encoder` })
    let pass: GPUComputePassEncoder | null = null
    for (const op of this.ops) {
      if (op.kind === 'dispatch') {
        pass ??= encoder.beginComputePass({ label: `${this.label}.pass` })
        pass.setPipeline(op.pipeline)
        pass.setBindGroup(0, this.bindGroup(uniforms!, op))
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
    this.ops.length = 0
    this.blocks.length = 0
  }

  /** Frees the uniform buffer and forgets the bind groups; the recorder can still be used (it makes new ones). */
  destroy(): void {
    this.uniforms?.destroy()
    this.uniforms = null
    this.groups.clear()
  }

  /** The uniform buffer, big enough for this submit's blocks, with them written in one queue write. */
  private writeUniforms(): GPUBuffer | null {
    if (this.blocks.length === 0) return this.uniforms
    const bytes = this.blocks.length * this.align
    if (!this.uniforms || this.uniforms.size < bytes) {
      // a buffer still used by submitted work stays alive until that work has run
      this.uniforms?.destroy()
      this.groups.clear()
      const size = Math.max(bytes, 2 * (this.uniforms?.size ?? 0))
      this.uniforms = this.device.createBuffer({ label: `${this.label}.uniforms`, size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST })
      this.created.uniformBuffers++
    }
    const all = new Uint8Array(bytes)
    this.blocks.forEach((b, i) => all.set(new Uint8Array(b), i * this.align))
    this.device.queue.writeBuffer(this.uniforms, 0, all)
    return this.uniforms
  }

  private bindGroup(uniforms: GPUBuffer, op: Extract<Op, { kind: 'dispatch' }>): GPUBindGroup {
    let key = `${idOf(op.pipeline)}:${op.slot}:${op.bytes}`
    for (const b of op.buffers) key += `:${idOf(b)}`
    let g = this.groups.get(key)
    if (!g) {
      if (this.groups.size >= MAX_BIND_GROUPS) this.groups.clear()
      const entries: GPUBindGroupEntry[] = [{ binding: 0, resource: { buffer: uniforms, offset: op.slot * this.align, size: op.bytes } }]
      op.buffers.forEach((buffer, i) => entries.push({ binding: i + 1, resource: { buffer } }))
      g = this.device.createBindGroup({ label: `${this.label}.${op.pipeline.label}`, layout: op.pipeline.getBindGroupLayout(0), entries })
      this.groups.set(key, g)
      this.created.bindGroups++
    }
    return g
  }
}
