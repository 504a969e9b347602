// The volunteer page's engine choice and its device in plain words: which adapter, which engine, and why.
import { openDevice, type AdapterSummary } from '../gpu/device.ts'
import { backendFor, decideEngine, engineLabel, type EngineAsk, type GpuFound } from '../gpu/engine-choice.ts'
import type { RaceResult } from '../gpu/engine-race.ts'
import type { Backend } from '../train/session.ts'

/** What the device card shows: `engine` (#engine), `adapter` (#adapter), `limits` (#limits), `sentence` for people. */
export interface DeviceView {
  engine: string
  adapter: string
  limits: string
  sentence: string
}

export interface DeviceHooks {
  show(view: Partial<DeviceView>): void
  /** A notice above the cards; `error` for a GPU fault. */
  notice(text: string, error?: boolean): void
}

/** Software adapters by the names their drivers give, as people know them. */
const SOFTWARE_NAMES: Array<[RegExp, string]> = [
  [/swiftshader/i, 'SwiftShader'],
  [/llvmpipe/i, 'llvmpipe'],
  [/lavapipe/i, 'lavapipe'],
  [/softpipe/i, 'softpipe'],
  [/basic render/i, 'Microsoft Basic Render Driver'],
]

/** The adapter's name for people: its description, else vendor and architecture; a software one by its known name. */
export function adapterName(info: AdapterSummary, software: boolean): string {
  const all = `${info.vendor} ${info.architecture} ${info.description}`
  if (software) return SOFTWARE_NAMES.find(([re]) => re.test(all))?.[1] ?? (info.description || 'a software adapter')
  return info.description || [info.vendor, info.architecture].filter(Boolean).join(' ') || 'an unnamed GPU'
}

/** The sentence after a timed choice: which engine won on the job's model. */
export function raceSentence(r: RaceResult, name: string): string {
  return r.engine.kind === 'webgpu' ? `WebGPU on ${name}: faster than the CPU engine on this job’s model.` : `CPU engine: faster than WebGPU on ${name} for this job’s model.`
}

/**
 * The engine: WebGPU where the browser has it; the CPU kernels without it, on a software adapter, or when the URL says
 * ?engine=cpu. Says what it found through `hooks` as it goes; resolves with the backend and the adapter line the
 * worker's hello carries ('–' when no GPU was opened).
 *
 * @example
 * const { backend, adapter } = await chooseBackend(new URLSearchParams(location.search), { show, notice })
 */
export async function chooseBackend(params: URLSearchParams, hooks: DeviceHooks): Promise<{ backend: Backend; adapter: string }> {
  const engine = params.get('engine')
  const asked: EngineAsk = engine === 'cpu' || engine === 'webgpu' ? engine : 'auto'
  const flag = (e: EngineAsk) => `?engine=${e}`
  const cpu = (sentence: string, gpu?: GpuFound) => {
    hooks.show({ engine: engineLabel(decideEngine(asked, gpu, flag)), sentence })
    return { backend: backendFor('cpu'), adapter: '–' }
  }
  if (asked === 'cpu') return cpu('Using the CPU engine, as this page’s address asks (?engine=cpu): the GPU is not used.')
  if (!('gpu' in navigator) || !navigator.gpu) {
    hooks.notice('This browser has no WebGPU (ERR_NO_WEBGPU), so this tab trains with the CPU version of the same kernels. It still helps, just more slowly.')
    return cpu('No WebGPU in this browser: using the CPU engine. It still helps, just more slowly.', { missing: 'no WebGPU in this browser' })
  }
  try {
    const gpu = await openDevice(navigator.gpu, (why) => hooks.notice(`GPU error: ${why}. Reload the page to rejoin.`, true))
    const name = adapterName(gpu.adapterInfo, gpu.software)
    const d = decideEngine(asked, gpu, flag)
    const sentence = gpu.software
      ? d.kind === 'cpu'
        ? `Software adapter (${name}): using the CPU engine, which is faster than WebGPU emulated on the CPU.`
        : `Software adapter (${name}): WebGPU emulated on the CPU, as ${flag('webgpu')} asks. The CPU engine would be faster.`
      : d.timed
        ? `WebGPU on ${name}: timed against the CPU engine when the job is known; the faster one trains.`
        : d.kind === 'webgpu'
          ? `WebGPU on ${name}.`
          : `CPU engine (${d.why}); the GPU, ${name}, is not used.`
    hooks.show({ adapter: gpu.adapter, limits: gpu.limits, engine: engineLabel(d), sentence })
    if (d.kind === 'webgpu') {
      const onTimed = d.timed ? (r: RaceResult) => hooks.show({ engine: engineLabel(r), sentence: raceSentence(r, name) }) : undefined
      return { backend: backendFor('webgpu', gpu.device, onTimed), adapter: gpu.adapter }
    }
    gpu.device.destroy()
    return { backend: backendFor('cpu'), adapter: gpu.adapter }
  } catch (e) {
    hooks.notice(`WebGPU is present but no device could be opened (${(e as Error).message}); training on the CPU instead.`)
    return cpu('WebGPU is here, but no GPU device could be opened: using the CPU engine.', { missing: 'WebGPU device unavailable' })
  }
}
