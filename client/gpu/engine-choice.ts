// Which engine a worker trains with, from what was asked and what GPU it found: shared by the page (?engine=) and
// `tabgrid worker` (--engine), so a headless worker picks exactly as a tab would. No DOM, no Node.
import { TabgridError } from '../../protocol/errors.ts'
import type { EngineAsk } from '../../protocol/job.ts'
import type { Backend } from '../train/session.ts'
import { createCpuEngine } from './cpu-engine.ts'
import { raceEngines, type RaceResult } from './engine-race.ts'
import { createGpuEngine } from './gpu-engine.ts'

export type { EngineAsk }

/** What looking for a GPU gave: an adapter (software or not), or why there is none. */
export type GpuFound = { software: boolean } | { missing: string }

export interface EngineDecision {
  /** The engine, or the first guess (said in hello) where `timed`. */
  kind: 'webgpu' | 'cpu'
  /** Why, for people; empty for the ordinary case (WebGPU on a hardware adapter). */
  why: string
  /** `auto` on a hardware adapter: both engines are timed on the job's model at join, and the faster trains. */
  timed?: true
}

/**
 * `auto` takes WebGPU on a hardware adapter and the CPU kernels on a software one (SwiftShader, llvmpipe: WGSL
 * emulated on the CPU, where the same kernels as plain loops are 10–16× faster, README "Benchmarks"); `webgpu` takes
 * any adapter; `cpu` never looks. `flag` spells the option the way the user typed it (`?engine=webgpu`, `--engine
 * webgpu`). Without a GPU the decision is the CPU: whether that is an error for an explicit `webgpu` is the caller's.
 *
 * @example
 * decideEngine('auto', { software: true }, (e) => `--engine ${e}`) // { kind: 'cpu', why: 'the WebGPU adapter is a software one, …' }
 */
export function decideEngine(asked: EngineAsk, gpu: GpuFound | undefined, flag: (e: EngineAsk) => string): EngineDecision {
  if (asked === 'cpu') return { kind: 'cpu', why: `asked for by ${flag('cpu')}` }
  if (!gpu || 'missing' in gpu) return { kind: 'cpu', why: gpu?.missing ?? 'no WebGPU' }
  if (asked === 'webgpu') return { kind: 'webgpu', why: `asked for by ${flag('webgpu')}` }
  if (gpu.software) return { kind: 'cpu', why: `the WebGPU adapter is a software one, on which the CPU kernels are faster; ${flag('webgpu')} to use it anyway` }
  return { kind: 'webgpu', why: '', timed: true }
}

/** One line for people: "WebGPU", "WebGPU (asked for by …)", "CPU (…)"; a timed choice before its race: "WebGPU or CPU …". */
export function engineLabel(d: EngineDecision | RaceResult): string {
  const kind = 'engine' in d ? d.engine.kind : d.kind
  const name = kind === 'webgpu' ? 'WebGPU' : 'CPU'
  if ('timed' in d && d.timed) return 'WebGPU or CPU, the faster on this job’s model (timed when the job is known)'
  return d.why ? `${name} (${d.why})` : name
}

/**
 * The session's engine factory for a decision; `device` is needed (and only used) for WebGPU, and is kept as the
 * backend's `device` (a Lasso job's kernel runs on it). A timed decision makes
 * both engines for the job's model, times a step on each (engine-race.ts) and keeps the faster; `onTimed` hears the
 * result (the page and the worker say which engine and why).
 */
export function backendFor(kind: EngineDecision['kind'], device?: GPUDevice, onTimed?: (r: RaceResult) => void): Backend {
  if (kind === 'cpu') return { kind, create: createCpuEngine }
  if (!device) throw new TabgridError('ERR_NO_WEBGPU', 'the WebGPU engine needs a device')
  if (!onTimed) return { kind, device, create: (plan) => createGpuEngine(device, plan) }
  return {
    kind,
    device,
    async create(plan, batch) {
      const r = await raceEngines([() => createGpuEngine(device, plan), () => createCpuEngine(plan)], plan, batch)
      onTimed(r)
      return r.engine
    },
  }
}
