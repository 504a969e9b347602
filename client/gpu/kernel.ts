// What every kernel class shares: WGSL with the common preamble, a per-device pipeline cache keyed by the shader's
// name and `override` constants, uniform packing, and dispatch grids checked against the device's limits.
import type { WindowGeom } from '../../model/layers/types.ts'
import activationWgsl from '../../shaders/common/activation.wgsl?raw'
import gridWgsl from '../../shaders/common/grid.wgsl?raw'
import windowWgsl from '../../shaders/common/window.wgsl?raw'

/** A place in a storage buffer: the buffer and an offset in elements (f32 or u32) that the shader adds. */
export interface View {
  buffer: GPUBuffer
  offset: number
}

/** The shared preamble (shaders/common/) every kernel's source is prefixed with: grid ids, activations, windows. */
const COMMON_WGSL = `${gridWgsl}\n${activationWgsl}\n${windowWgsl}\n`

const caches = new WeakMap<GPUDevice, { modules: Map<string, GPUShaderModule>; pipelines: Map<string, GPUComputePipeline> }>()

/**
 * The compute pipeline for shader `name` (entry point `main`) with its `override` constants set, built once per
 * device and constants (the key, also its label): engines and tests on one device share them.
 */
export function pipeline(device: GPUDevice, name: string, src: string, constants: Record<string, number> = {}): GPUComputePipeline {
  let cache = caches.get(device)
  if (!cache) caches.set(device, (cache = { modules: new Map(), pipelines: new Map() }))
  const key = `${name}(${Object.keys(constants).sort().map((k) => `${k}=${constants[k]}`).join(',')})`
  let p = cache.pipelines.get(key)
  if (!p) {
    let module = cache.modules.get(name)
    if (!module) cache.modules.set(name, (module = device.createShaderModule({ label: `${name}.wgsl`, code: COMMON_WGSL + src })))
    p = device.createComputePipeline({ label: key, layout: 'auto', compute: { module, entryPoint: 'main', constants } })
    cache.pipelines.set(key, p)
  }
  return p
}

/**
 * Workgroup counts covering `invocations` threads in groups of `wg`, folded into 2D when one dimension would pass
 * the device's limit (or `maxPerDim`, for tests). Shaders recover the linear id with flatId() from
 * shaders/common/grid.wgsl and bounds-check it.
 */
export function grid(device: GPUDevice, invocations: number, wg: number, maxPerDim = device.limits.maxComputeWorkgroupsPerDimension): [number, number] {
  const groups = Math.ceil(invocations / wg)
  if (groups <= maxPerDim) return [groups, 1]
  const y = Math.ceil(groups / maxPerDim)
  if (y > maxPerDim) throw new RangeError(`${invocations} invocations exceed the GPU's ${maxPerDim}² workgroup grid`)
  return [maxPerDim, y]
}

/** Throws a RangeError naming `what` when a grid dimension passes the device's workgroups-per-dimension limit. */
export function checkGrid(device: GPUDevice, what: string, groups: number[]): void {
  const max = device.limits.maxComputeWorkgroupsPerDimension
  if (groups.some((g) => g > max)) throw new RangeError(`${what} needs ${groups.join('×')} workgroups; the GPU allows ${max} per dimension`)
}

/** A uniform block of 32-bit words, padded to 16 bytes: u32 by default, f32 where the key is listed in `floats`. */
export function params(words: Record<string, number>, floats: string[] = []): ArrayBuffer {
  const names = Object.keys(words)
  const buf = new ArrayBuffer(Math.max(16, Math.ceil(names.length / 4) * 16))
  const u = new Uint32Array(buf)
  const f = new Float32Array(buf)
  names.forEach((k, i) => {
    const v = words[k]
    if (floats.includes(k)) f[i] = v
    else {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uniform ${k} = ${v} is not a u32`)
      u[i] = v
    }
  })
  return buf
}

/** The smallest power of two ≥ n (n ≥ 1). */
export function pow2(n: number): number {
  return 2 ** Math.ceil(Math.log2(Math.max(1, n)))
}

/** A uniform block starting with shaders/common/window.wgsl's Window (field order matters), then `extra`. */
export function windowParams(g: WindowGeom, rows: number, extra: Record<string, number>): ArrayBuffer {
  const { inH, inW, inC, outH, outW, kh, kw, sh, sw, padTop, padLeft } = g
  return params({ rows, inH, inW, inC, outH, outW, kh, kw, sh, sw, padTop, padLeft, ...extra })
}
