// The parameter server of one job: sums each clock's dense `ps` deltas from all workers; hands out one aggregate
// per move of the min clock, so what a worker pulls per clock does not grow with the number of workers.
import type { TensorSpec } from '../../model/layers/types.ts'
import { denseParts, sumDense, type Part } from '../../model/update.ts'

export interface AggregateParts {
  /** Every ps part with clock in [from, to) is summed in. */
  from: number
  to: number
  /** One dense ps part per tensor that had any, in tensor order. */
  parts: Part[]
}

/**
 * @example
 * const ps = new ParamServer(plan.tensors)
 * ps.push(0, psPartsOfWorkerA); ps.push(0, psPartsOfWorkerB)
 * ps.take(1) // { from: 0, to: 1, parts: [A + B per tensor] }
 */
export class ParamServer {
  /** clock → tensor → running sum. */
  private readonly sums = new Map<number, Map<number, Float32Array>>()
  /** The first clock not yet handed out. */
  private next = 0

  constructor(
    private readonly tensors: readonly TensorSpec[],
    /** The first clock to aggregate (a resumed job's clocks below it are in its model already). */
    start = 0,
  ) {
    this.next = start
  }

  get from(): number {
    return this.next
  }

  /** Adds a worker's ps parts for `clock`; parts on other paths are ignored. */
  push(clock: number, parts: readonly Part[]): void {
    if (clock < this.next) throw new Error(`parameter server: clock ${clock} is already aggregated (next ${this.next})`)
    const byTensor = this.sums.get(clock) ?? new Map<number, Float32Array>()
    sumDense(byTensor, parts)
    if (byTensor.size) this.sums.set(clock, byTensor)
  }

  /** The sum over clocks in [from, to), removed from the table; `to` ≤ from gives an empty aggregate. */
  take(to: number): AggregateParts {
    const from = this.next
    const total = new Map<number, Float32Array>()
    for (const [clock, byTensor] of [...this.sums].sort((a, b) => a[0] - b[0])) {
      if (clock >= to) continue
      for (const [t, sum] of byTensor) {
        const acc = total.get(t)
        if (!acc) total.set(t, sum)
        else for (let i = 0; i < acc.length; i++) acc[i] += sum[i]
      }
      this.sums.delete(clock)
    }
    this.next = Math.max(from, to)
    return { from, to: this.next, parts: denseParts(total) }
  }

  /** Everything still held (the job is over). */
  takeAll(): AggregateParts {
    return this.take(Math.max(this.next, ...[...this.sums.keys()].map((c) => c + 1)))
  }

  /** Floats held for clocks not handed out yet. */
  get heldFloats(): number {
    let n = 0
    for (const byTensor of this.sums.values()) for (const s of byTensor.values()) n += s.length
    return n
  }

  get tensorCount(): number {
    return this.tensors.length
  }
}
