// The batch's activations and their gradients, one buffer pair per slot: slot 0 is the model's input, and every layer
// that is not a pass-through (flatten) writes a new slot; a pass-through's output is its input's slot.
import { GrowableBuffer } from './buffers.ts'
import type { View } from './kernel.ts'
import type { LayerProgram } from './layers/types.ts'

export class Activations {
  /** The slot of layer l's input and output. */
  readonly inSlot: number[] = []
  readonly outSlot: number[] = []
  /** Floats per sample of each slot. */
  private readonly width: number[]
  private readonly acts: GrowableBuffer[] = []
  private readonly grads: GrowableBuffer[] = []

  constructor(device: GPUDevice, programs: readonly LayerProgram[], inputSize: number) {
    this.width = [inputSize]
    let slot = 0
    for (const p of programs) {
      this.inSlot.push(slot)
      if (!p.passThrough) {
        slot = this.width.length
        this.width.push(p.plan.outSize)
        // Copy sources too: a layer's output is V, and its gradient U, of a factor part read back.
        this.acts[slot] = new GrowableBuffer(device, `${p.plan.name}.y`, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC)
        this.grads[slot] = new GrowableBuffer(device, `${p.plan.name}.dy`, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC)
      }
      this.outSlot.push(slot)
    }
  }

  /** The largest per-sample width of any slot. */
  get maxWidth(): number {
    return Math.max(...this.width)
  }

  /** The activation buffer of a layer output slot (≥ 1) for `rows` samples. */
  act(slot: number, rows: number): View {
    return { buffer: this.acts[slot].ensure(rows * this.width[slot] * 4), offset: 0 }
  }

  grad(slot: number, rows: number): View {
    return { buffer: this.grads[slot].ensure(rows * this.width[slot] * 4), offset: 0 }
  }

  destroy(): void {
    for (const b of [...this.acts, ...this.grads]) b?.destroy()
  }
}
