// What a step reads back, in one staging buffer: loss and correct, then exactly the parts that are sent, in tensor
// order (factors U and V, where V is not rows the host already has; dense deltas), and the parts rebuilt from it.
import type { ModelPlan } from '../../model/plan.ts'
import type { Part } from '../../model/update.ts'
import type { View } from './kernel.ts'
import type { PartSource } from './layers/types.ts'
import type { Recorder } from './recorder.ts'

interface Placed {
  source: PartSource
  /** Where U (factors) or the delta (dense) starts in the staging buffer, in floats. */
  at: number
  /** Where V starts, or -1 when V is taken from the host's rows. */
  v: number
}

export class StepReadback {
  /** Floats the staging buffer holds. */
  floats = 2
  private readonly copies: { src: View; at: number; floats: number }[] = []
  private readonly placed: Placed[]
  private readonly hostRows: Float32Array

  /**
   * Dense deltas are read from `grads` at their tensors' offsets. `shard` holds this step's input rows, which the
   * host has as `hostRows`: a factor's V read from it is taken from the host instead.
   */
  constructor(
    private readonly plan: ModelPlan,
    sources: readonly PartSource[],
    private readonly rows: number,
    at: { grads: GPUBuffer; shard: GPUBuffer; hostRows: Float32Array },
  ) {
    this.hostRows = at.hostRows
    this.placed = [...sources]
      .sort((a, b) => a.tensor - b.tensor)
      .map((source) => {
        const t = plan.tensors[source.tensor]
        if (source.form === 'dense') return { source, at: this.take({ buffer: at.grads, offset: t.offset }, t.size), v: -1 }
        const u = this.take(source.u, rows * t.rows)
        const v = source.v.buffer === at.shard ? -1 : this.take(source.v, rows * t.cols)
        return { source, at: u, v }
      })
  }

  /** Records the copies of stats (loss, correct) and every part into `staging`. */
  record(r: Recorder, stats: GPUBuffer, staging: GPUBuffer): void {
    r.copy(stats, 0, staging, 0, 8)
    for (const c of this.copies) r.copy(c.src.buffer, c.src.offset * 4, staging, c.at * 4, c.floats * 4)
  }

  /** The step's loss, correct and parts from the mapped staging floats. */
  result(data: Float32Array): { loss: number; correct: number; parts: Part[] } {
    const { rows } = this
    const parts: Part[] = this.placed.map(({ source: s, at, v }) => {
      const t = this.plan.tensors[s.tensor]
      if (s.form === 'dense') return { tensor: s.tensor, path: s.path, form: 'dense', floats: data.slice(at, at + t.size) }
      const out = new Float32Array(rows * (t.rows + t.cols))
      out.set(data.subarray(at, at + rows * t.rows))
      out.set(v < 0 ? this.hostRows : data.subarray(v, v + rows * t.cols), rows * t.rows)
      return { tensor: s.tensor, path: s.path, form: 'factors', floats: out }
    })
    return { loss: data[0], correct: data[1], parts }
  }

  private take(src: View, floats: number): number {
    this.copies.push({ src, at: this.floats, floats })
    this.floats += floats
    return this.floats - floats
  }
}
