// What computes a Lasso task's coordinate steps on the held columns: the interface, and the CPU one (apps/lasso/step.ts).
import { coordinateDeltas } from '../../apps/lasso/step.ts'
import type { HeldColumns } from './held.ts'

/**
 * A task's Jacobi coordinate steps: every pick reads the same residual, and the residual is not changed (the
 * coordinator sends each round's change to every worker, the sender included).
 */
export interface LassoStepper {
  readonly kind: 'webgpu' | 'cpu'
  /** The held columns changed (X rebuilt). */
  setColumns(held: HeldColumns): Promise<void>
  /** The residual changed; the array is the worker's and is read again at the next step. */
  setResidual(r: Float32Array): void
  /** Δβ per pick, in order: `local` are X's columns (distinct), `beta` their current values. */
  step(local: Uint32Array, beta: Float32Array, lambda: number): Promise<Float32Array>
  destroy(): void
}

/**
 * The CPU steps: apps/lasso/step.ts `coordinateDeltas` on the held columns, with their norms.
 *
 * @example
 * const s = new CpuLassoStepper()
 * await s.setColumns(held)
 * s.setResidual(r)
 * const deltas = await s.step(held.local(picks), beta, lambda)
 */
export class CpuLassoStepper implements LassoStepper {
  readonly kind = 'cpu' as const
  private held: HeldColumns | null = null
  private r: Float32Array = new Float32Array(0)
  /** β by held column: only the task's picks are set (and read) each step. */
  private beta = new Float64Array(0)

  async setColumns(held: HeldColumns): Promise<void> {
    this.held = held
    if (this.beta.length !== held.cols) this.beta = new Float64Array(held.cols)
  }

  setResidual(r: Float32Array): void {
    this.r = r
  }

  async step(local: Uint32Array, beta: Float32Array, lambda: number): Promise<Float32Array> {
    const held = this.held
    if (!held) throw new RangeError('a Lasso step before any columns were held')
    for (let k = 0; k < local.length; k++) this.beta[local[k]] = beta[k]
    const delta = coordinateDeltas({ n: held.n, cols: held.cols, x: held.x }, this.r, local, this.beta, lambda, held.norms)
    return Float32Array.from(delta)
  }

  destroy(): void {
    this.held = null
  }
}
