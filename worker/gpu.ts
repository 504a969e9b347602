// WebGPU in Node: Dawn through the optional `webgpu` package, loaded only when asked for, so a machine without it
// still runs the CPU engine.
import { openDevice, type GpuErrorHandler, type OpenedDevice } from '../client/gpu/device.ts'
import { TabgridError } from '../protocol/errors.ts'

/**
 * The navigator.gpu stand-in, held for the life of the process: once the object create() returns is
 * garbage-collected, Dawn frees its instance while devices still use it and the process aborts.
 */
let dawn: GPU | undefined

/** An opened device, or why there is none (for people: what to install or set). */
export type NodeGpu = { opened: OpenedDevice } | { missing: string }

export async function openNodeGpu(onError: GpuErrorHandler): Promise<NodeGpu> {
  if (!dawn) {
    let mod: typeof import('webgpu')
    try {
      mod = await import('webgpu')
    } catch (e) {
      return { missing: `the webgpu package (Dawn for Node) did not load: ${firstLine(e)}; npm install webgpu to use a GPU` }
    }
    // the engine's kernels use GPUBufferUsage, GPUMapMode, … as globals, as in a browser
    Object.assign(globalThis, mod.globals)
    dawn = mod.create([])
  }
  try {
    return { opened: await openDevice(dawn, onError) }
  } catch (e) {
    const vk = process.env.VK_DRIVER_FILES ? ` with VK_DRIVER_FILES=${process.env.VK_DRIVER_FILES}` : ''
    // openDevice's "no adapter" speaks of navigator.gpu; here the cause is the machine's driver
    const why = e instanceof TabgridError && e.code === 'ERR_NO_WEBGPU' ? 'no adapter' : firstLine(e)
    return { missing: `Dawn found no usable GPU adapter${vk} (${why}; it needs a Vulkan, Metal or D3D12 driver)` }
  }
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split('\n')[0]
}
