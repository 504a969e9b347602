// Evaluations off the coordinator's event loop: a small pool of worker threads (piscina) shared by every job.
import { availableParallelism } from 'node:os'
import { fileURLToPath } from 'node:url'
import { Piscina } from 'piscina'
import type { ModelPlan } from '../model/plan.ts'
import { evaluationOrder, type Evaluator } from './core/evaluator.ts'
import type { Split } from './data/types.ts'
import type { EvalTask } from './eval-task.ts'

/**
 * @example
 * const pool = new EvalPool()
 * const job = new JobCore(info, plan, data, out, { evaluator: pool.evaluator(plan, data.test) })
 * await pool.close()
 */
export class EvalPool {
  private readonly pool = new Piscina({
    filename: fileURLToPath(new URL('./eval-thread.mjs', import.meta.url)),
    minThreads: 0,
    // evaluation is background work: leave most cores to the socket path and to local tabs
    maxThreads: Math.max(1, Math.floor(availableParallelism() / 4)),
    idleTimeout: 30_000,
  })

  /** An evaluator for one job: its test split goes to shared memory once (in evaluation order); calls copy only the parameters. */
  evaluator(plan: ModelPlan, test: Split): Evaluator {
    const ordered = evaluationOrder(test, plan.inputSize)
    const x = new Float32Array(new SharedArrayBuffer(Math.max(4, ordered.x.byteLength)))
    x.set(ordered.x)
    const y = new Uint8Array(new SharedArrayBuffer(Math.max(1, test.n)))
    y.set(ordered.y)
    return (params, n) => {
      const task: EvalTask = { plan, params, x, y, n: Math.min(n, test.n) }
      return this.pool.run(task, { transferList: [params.buffer as ArrayBuffer] })
    }
  }

  async close(): Promise<void> {
    await this.pool.destroy()
  }
}
