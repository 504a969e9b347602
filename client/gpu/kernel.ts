// What every kernel class shares: building a labelled pipeline from WGSL with `override` constants, and 2D grids.

/** Builds a compute pipeline for `code` (entry point `main`) with its `override` constants set. */
export function createKernelPipeline(
  device: GPUDevice,
  label: string,
  code: string,
  constants: Record<string, number>,
): GPUComputePipeline {
  const module = device.createShaderModule({ label: `${label}.wgsl`, code })
  return device.createComputePipeline({
    label: `${label}.pipeline`,
    layout: 'auto',
    compute: { module, entryPoint: 'main', constants },
  })
}

/**
 * Workgroup counts covering `invocations` threads in groups of `wg`, folded into 2D when one dimension would pass
 * `maxPerDim`. Shaders recover the linear id as (wid.y · nwg.x + wid.x) · WG + lid and bounds-check it.
 */
export function grid(invocations: number, wg: number, maxPerDim: number): [number, number] {
  const groups = Math.ceil(invocations / wg)
  if (groups <= maxPerDim) return [groups, 1]
  const y = Math.ceil(groups / maxPerDim)
  if (y > maxPerDim) throw new RangeError(`${invocations} invocations exceed a ${maxPerDim}² grid`)
  return [maxPerDim, y]
}

/** A 16-byte uniform block from four 32-bit words; numbers in `f32At` are stored as f32, the rest as u32. */
export function uniformWords(words: [number, number, number, number], f32At: number[] = []): ArrayBuffer {
  const buf = new ArrayBuffer(16)
  const u = new Uint32Array(buf)
  const f = new Float32Array(buf)
  words.forEach((w, i) => {
    if (f32At.includes(i)) f[i] = w
    else u[i] = w
  })
  return buf
}
