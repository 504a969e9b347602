// One submit's worth of GPU work: dispatches in a shared compute pass, copies, clears, per-dispatch uniforms.

/**
 * Records kernels into one command encoder; each dispatch gets its own small uniform buffer (so one kernel can run
 * twice in a submit with different parameters), destroyed once the submit is queued.
 *
 * @example
 * const r = new Recorder(device, 'step')
 * r.dispatch(pipeline, r.uniform('p', words), [x, out], [4, 1])
 * r.copy(out, 0, staging, 0, 64)
 * r.submit()
 */
export class Recorder {
  private readonly encoder: GPUCommandEncoder
  private pass: GPUComputePassEncoder | null = null
  private readonly temps: GPUBuffer[] = []

  constructor(
    private readonly device: GPUDevice,
    private readonly label: string,
  ) {
    this.encoder = device.createCommandEncoder({ label: `${label}.encoder` })
  }

  /** A uniform buffer holding `data`, alive until submit(). */
  uniform(label: string, data: ArrayBuffer): GPUBuffer {
    const buf = this.device.createBuffer({
      label: `${this.label}.${label}.params`,
      size: data.byteLength,
      usage: GPUBufferUsage.UNIFORM,
      mappedAtCreation: true,
    })
    new Uint8Array(buf.getMappedRange()).set(new Uint8Array(data))
    buf.unmap()
    this.temps.push(buf)
    return buf
  }

  /** Dispatches `pipeline` with buffers bound at @binding(0), (1), … of @group(0). */
  dispatch(pipeline: GPUComputePipeline, buffers: GPUBuffer[], [x, y]: [number, number]): void {
    if (x === 0 || y === 0) return
    const bindGroup = this.device.createBindGroup({
      label: `${this.label}.${pipeline.label}.bindings`,
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    })
    this.pass ??= this.encoder.beginComputePass({ label: `${this.label}.pass` })
    this.pass.setPipeline(pipeline)
    this.pass.setBindGroup(0, bindGroup)
    this.pass.dispatchWorkgroups(x, y)
  }

  copy(src: GPUBuffer, srcOffset: number, dst: GPUBuffer, dstOffset: number, size: number): void {
    this.endPass()
    if (size > 0) this.encoder.copyBufferToBuffer(src, srcOffset, dst, dstOffset, size)
  }

  clear(buf: GPUBuffer, offset = 0, size?: number): void {
    this.endPass()
    this.encoder.clearBuffer(buf, offset, size)
  }

  submit(): void {
    this.endPass()
    this.device.queue.submit([this.encoder.finish({ label: `${this.label}.commands` })])
    for (const b of this.temps.splice(0)) b.destroy()
  }

  private endPass(): void {
    this.pass?.end()
    this.pass = null
  }
}
