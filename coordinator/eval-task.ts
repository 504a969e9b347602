// What an evaluation thread runs: the reference forward pass of a model copy over a job's test split.
import { evaluate } from '../model/network.ts'
import type { ModelPlan } from '../model/plan.ts'

export interface EvalTask {
  plan: ModelPlan
  params: Float32Array
  /** The test split, in shared memory (copied once per job, not per evaluation). */
  x: Float32Array
  y: Uint8Array
  n: number
}

export default function evaluateTask(t: EvalTask): { loss: number; accuracy: number } {
  return evaluate(t.plan, t.params, t.x, t.y, t.n)
}
