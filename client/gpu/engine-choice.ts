// Which engine a worker trains with, from what was asked and what GPU it found: shared by the page (?engine=) and
// `tabgrid worker` (--engine), so a headless worker picks exactly as a tab would. No DOM, no Node.
import { TabgridError } from '../../protocol/errors.ts'
import type { Backend } from '../train/session.ts'
import { createCpuEngine } from './cpu-engine.ts'
import { createGpuEngine } from './gpu-engine.ts'

export type EngineAsk = 'auto' | 'webgpu' | 'cpu'

/** What looking for a GPU gave: an adapter (software or not), or why there is none. */
export type GpuFound = { software: boolean } | { missing: string }

export interface EngineDecision {
  kind: 'webgpu' | 'cpu'
  /** Why, for people; empty for the ordinary case (WebGPU on a hardware adapter). */
  why: string
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
  return { kind: 'webgpu', why: '' }
}

/** One line for people: "WebGPU", "WebGPU (asked for by …)", "CPU (…)". */
export function engineLabel(d: EngineDecision): string {
  const name = d.kind === 'webgpu' ? 'WebGPU' : 'CPU'
  return d.why ? `${name} (${d.why})` : name
}

/** The session's engine factory for a decision; `device` is needed (and only used) for WebGPU. */
export function backendFor(kind: EngineDecision['kind'], device?: GPUDevice): Backend {
  if (kind === 'cpu') return { kind, create: createCpuEngine }
  if (!device) throw new TabgridError('ERR_NO_WEBGPU', 'the WebGPU engine needs a device')
  return { kind, create: (plan) => createGpuEngine(device, plan) }
}
