// One training step on the WGSL engine (Dawn on SwiftShader here, a real GPU elsewhere) against the CPU engine.
import { create, globals } from 'webgpu'
import { createCpuEngine } from '../client/gpu/cpu-engine.ts'
import { createGpuEngine, type Engine } from '../client/gpu/engine.ts'
import { mulberry32, randomFloats } from '../test/helpers/random.ts'

async function timeSteps(e: Engine, rows: number, form: 'factors' | 'dense', n: number): Promise<number> {
  const { J, K } = e.dims
  const rand = mulberry32(1)
  const x = randomFloats(rand, n * J)
  const y = Uint8Array.from({ length: n }, () => Math.floor(rand() * K))
  e.loadShard(x, y, n)
  await e.step(0, rows, -0.01, form) // warm-up: pipelines, buffers
  const reps = Math.max(3, Math.floor(n / rows))
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) await e.step((r * rows) % (n - rows + 1), rows, -0.01 / rows, form)
  return (performance.now() - t0) / reps
}

export async function benchKernels(): Promise<void> {
  Object.assign(globalThis, globals)
  const gpu = create([])
  const adapter = await gpu.requestAdapter()
  if (!adapter) throw new Error('no WebGPU adapter (is chromium / libvulkan1 installed?)')
  const device = await adapter.requestDevice()
  const rows = []
  for (const [K, J, B] of [[10, 784, 8], [10, 784, 64], [100, 4096, 32]] as const) {
    const dims = { K, J }
    const form = B * (J + K) < J * K ? 'factors' : 'dense'
    const g = await timeSteps(createGpuEngine(device, dims), B, form, 256)
    const c = await timeSteps(createCpuEngine(dims), B, form, 256)
    rows.push({ 'K×J': `${K}×${J}`, B, form, 'webgpu ms/step': g.toFixed(2), 'cpu ms/step': c.toFixed(2), 'cpu / webgpu': (c / g).toFixed(2) })
  }
  console.log(`\nOne step (forward, softmax-CE factors, own update, readback); adapter: ${adapter.info.vendor || '?'} ${adapter.info.architecture || ''} ${adapter.info.description || ''}`)
  console.table(rows)
  device.destroy()
  void gpu // keep the instance alive until here (Dawn frees it when collected)
}
