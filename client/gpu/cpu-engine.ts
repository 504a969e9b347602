// The CPU engine for tabs without WebGPU (and Node workers): the Engine interface on the reference network.
import { evaluateSums, trainStep } from '../../model/network.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { applyParts, type Part, type Path } from '../../model/update.ts'
import { checkLabels, checkLength, checkParts, checkRows } from './checks.ts'
import type { Engine, StepOutput } from './engine.ts'

class CpuEngine implements Engine {
  readonly kind = 'cpu' as const
  private params: Float32Array
  private x = new Float32Array(0)
  private y = new Uint8Array(0)
  private n = 0

  constructor(readonly plan: ModelPlan) {
    this.params = new Float32Array(plan.size)
  }

  setModel(arena: Float32Array): void {
    checkLength('model', arena, this.plan.size)
    this.params = arena.slice(0, this.plan.size)
  }

  async readModel(): Promise<Float32Array> {
    return this.params.slice()
  }

  /** Copies the rows. */
  loadShard(x: Float32Array, y: Uint8Array, n: number): void {
    checkLength('shard features', x, n * this.plan.inputSize)
    checkLabels(y, n, this.plan.classes)
    this.x = x.slice(0, n * this.plan.inputSize)
    this.y = y.slice(0, n)
    this.n = n
  }

  async step(row0: number, rows: number, scale: number, paths: readonly Path[]): Promise<StepOutput> {
    checkRows(row0, rows, this.n)
    const out = trainStep(this.plan, this.params, this.x, this.y, row0, rows, scale, paths)
    applyParts(this.params, this.plan.tensors, out.parts, rows)
    return out
  }

  apply(parts: readonly Part[], rows: number): void {
    checkParts(this.plan, parts, rows)
    applyParts(this.params, this.plan.tensors, parts, rows)
  }

  async evaluate(x: Float32Array, y: Uint8Array, n: number): Promise<{ loss: number; correct: number }> {
    checkLength('features', x, n * this.plan.inputSize)
    checkLabels(y, n, this.plan.classes)
    return evaluateSums(this.plan, this.params, x, y, n)
  }

  destroy(): void {
    this.x = new Float32Array(0)
    this.y = new Uint8Array(0)
    this.n = 0
  }
}

/**
 * The CPU engine, the same interface as createGpuEngine.
 *
 * @example
 * const engine = 'gpu' in navigator ? createGpuEngine(device, plan) : createCpuEngine(plan)
 */
export function createCpuEngine(plan: ModelPlan): Engine {
  return new CpuEngine(plan)
}
