// GPU buffers the engine owns: ones that grow to the largest shard or batch seen, and a pool of readback buffers.

const MIN_BYTES = 16

/** The most bytes one buffer of this usage may hold on `device`: a storage binding's limit, else the buffer limit. */
export function bufferLimit(device: GPUDevice, usage: GPUBufferUsageFlags): number {
  const l = device.limits
  return usage & GPUBufferUsage.STORAGE ? Math.min(l.maxStorageBufferBindingSize, l.maxBufferSize) : l.maxBufferSize
}

/** Throws a RangeError naming `what` when `bytes` do not fit one buffer of this usage on `device`. */
export function checkFits(device: GPUDevice, what: string, bytes: number, usage = GPUBufferUsage.STORAGE): void {
  const limit = bufferLimit(device, usage)
  if (bytes > limit) throw new RangeError(`${what} needs ${bytes} bytes in one buffer; this GPU binds at most ${limit}`)
}

/** A labelled buffer reallocated (contents dropped) whenever a larger size is asked for. */
export class GrowableBuffer {
  private buf: GPUBuffer | null = null

  constructor(
    private readonly device: GPUDevice,
    readonly label: string,
    private readonly usage: GPUBufferUsageFlags,
  ) {}

  /**
   * The buffer, at least `bytes` long; a RangeError when that is over the device's limit. A buffer replaced here
   * stays valid for work already submitted (the queue keeps it until that work has run).
   */
  ensure(bytes: number): GPUBuffer {
    const size = Math.max(MIN_BYTES, Math.ceil(bytes / 4) * 4)
    if (this.buf && this.buf.size >= size) return this.buf
    checkFits(this.device, this.label, size, this.usage)
    this.buf?.destroy()
    this.buf = this.device.createBuffer({ label: this.label, size, usage: this.usage })
    return this.buf
  }

  destroy(): void {
    this.buf?.destroy()
    this.buf = null
  }
}

/** MAP_READ buffers reused across readbacks; several can be in flight at once (a step and a readModel). */
export class ReadbackPool {
  private free: GPUBuffer[] = []
  private readonly all = new Set<GPUBuffer>()

  constructor(private readonly device: GPUDevice) {}

  acquire(bytes: number): GPUBuffer {
    const size = Math.max(MIN_BYTES, Math.ceil(bytes / 4) * 4)
    const i = this.free.findIndex((b) => b.size >= size)
    if (i >= 0) return this.free.splice(i, 1)[0]
    checkFits(this.device, 'a readback', size, GPUBufferUsage.MAP_READ)
    const buf = this.device.createBuffer({
      label: `readback.${this.all.size}`,
      size,
      usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
    })
    this.all.add(buf)
    return buf
  }

  /** Maps `buf` (after the copies into it were submitted), copies out the first `floats` f32 and releases it. */
  async read(buf: GPUBuffer, floats: number): Promise<Float32Array<ArrayBuffer>> {
    try {
      await buf.mapAsync(GPUMapMode.READ, 0, Math.max(MIN_BYTES, floats * 4))
      return new Float32Array(buf.getMappedRange(0, floats * 4).slice(0))
    } finally {
      if (buf.mapState === 'mapped') buf.unmap()
      if (this.all.has(buf)) this.free.push(buf)
    }
  }

  destroy(): void {
    for (const b of this.all) b.destroy()
    this.all.clear()
    this.free = []
  }
}
