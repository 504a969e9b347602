// Timing both engines on the job's own model at join, where a hardware adapter leaves the choice open: the WGSL
// kernels win on a real GPU at most sizes, but an integrated GPU on a tiny model, or a slow driver, can lose to the
// CPU kernels; one step each says which, on this machine, for this model.
import { initParams } from '../../model/params.ts'
import type { ModelPlan } from '../../model/plan.ts'
import type { Path } from '../../model/update.ts'
import type { Engine } from './engine.ts'

/** Timed steps per engine after a warm-up one (pipelines built, buffers sized); the fastest counts. */
const TIMED_STEPS = 2

export interface RaceResult {
  engine: Engine
  /** Per engine kind, ms for one step of `batch` rows: the fastest of the timed steps. */
  msPerStep: Partial<Record<Engine['kind'], number>>
  /** One line for people, e.g. "timed at join on mlp:32: WebGPU 2.1 ms/step, CPU 9.8 ms/step". */
  why: string
}

/** A batch of `rows` inputs and labels of no meaning: a step costs the same whatever they hold. */
function syntheticBatch(plan: ModelPlan, rows: number): { x: Float32Array; y: Uint8Array } {
  const x = new Float32Array(rows * plan.inputSize)
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) % 1000) / 1000
  return { x, y: Uint8Array.from({ length: rows }, (_, i) => i % plan.classes) }
}

/** ms for one step on `batch`: a warm-up, then the fastest of TIMED_STEPS. The model is left as it was (scale 0). */
async function msPerStep(e: Engine, batch: { x: Float32Array; y: Uint8Array }, now: () => number): Promise<number> {
  const { plan } = e
  const rows = batch.y.length
  e.setModel(initParams(plan))
  e.loadShard(batch.x, batch.y, rows)
  const paths: Path[] = plan.tensors.map(() => 'ps')
  await e.step(0, rows, 0, paths)
  let best = Infinity
  for (let i = 0; i < TIMED_STEPS; i++) {
    const t = now()
    await e.step(0, rows, 0, paths)
    best = Math.min(best, now() - t)
  }
  return best
}

/**
 * Makes each candidate engine for `plan`, times a step of `batch` rows on each and keeps the fastest; the others are
 * destroyed. A candidate that fails to build or run (the model does not fit the GPU, say) drops out; if all fail,
 * the last error is thrown. The winner's model and shard are to be set by the caller.
 *
 * @example
 * const { engine, why } = await raceEngines([() => createGpuEngine(device, plan), () => createCpuEngine(plan)], plan, 32)
 */
export async function raceEngines(makers: ReadonlyArray<() => Engine>, plan: ModelPlan, batch: number, now: () => number = () => performance.now()): Promise<RaceResult> {
  const times: Array<{ engine: Engine; ms: number }> = []
  const inputs = syntheticBatch(plan, Math.max(1, batch))
  let failure: unknown
  for (const make of makers) {
    let e: Engine | undefined
    try {
      e = make()
      times.push({ engine: e, ms: await msPerStep(e, inputs, now) })
    } catch (err) {
      e?.destroy()
      failure = err
    }
  }
  if (times.length === 0) throw failure instanceof Error ? failure : new Error(String(failure))
  times.sort((a, b) => a.ms - b.ms)
  for (const { engine } of times.slice(1)) engine.destroy()
  const name = (k: Engine['kind']) => (k === 'webgpu' ? 'WebGPU' : 'CPU')
  const msPerStepByKind: RaceResult['msPerStep'] = {}
  for (const t of times) msPerStepByKind[t.engine.kind] = t.ms
  const figures = times.map((t) => `${name(t.engine.kind)} ${t.ms.toFixed(1)} ms/step`).join(', ')
  return { engine: times[0].engine, msPerStep: msPerStepByKind, why: `the faster on ${plan.name} at B=${batch}, timed at join: ${figures}` }
}
