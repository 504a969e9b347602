// One training step on the WGSL engine (Dawn on SwiftShader here, a real GPU elsewhere) against the CPU engine, for
// an MLP and the cnn preset; and the tiled matmul's throughput on the products a 256-unit layer over 4096 inputs makes.
import { create, globals } from 'webgpu'
import { createCpuEngine } from '../client/gpu/cpu-engine.ts'
import type { Engine } from '../client/gpu/engine.ts'
import { createGpuEngine } from '../client/gpu/gpu-engine.ts'
import { MatmulKernel, type MatmulArgs } from '../client/gpu/matmul-kernel.ts'
import { Recorder } from '../client/gpu/recorder.ts'
import { initParams } from '../model/params.ts'
import { planModel, type ModelPlan } from '../model/plan.ts'
import { presetSpec } from '../model/spec.ts'
import type { Path } from '../model/update.ts'
import { mulberry32, randomFloats } from '../test/helpers/random.ts'

const B = 32
const SHARD = 256

/** Poseidon's choice at B: dense kernels as factors, the rest dense. */
function paths(plan: ModelPlan): Path[] {
  return plan.tensors.map((t) => (t.factorable && B * (t.rows + t.cols) < t.size ? 'sf' : 'ps'))
}

async function msPerStep(e: Engine, reps: number): Promise<number> {
  const { plan } = e
  const rand = mulberry32(1)
  e.setModel(initParams(plan))
  e.loadShard(randomFloats(rand, SHARD * plan.inputSize), Uint8Array.from({ length: SHARD }, () => Math.floor(rand() * plan.classes)), SHARD)
  const p = paths(plan)
  await e.step(0, B, -0.01 / B, p) // warm-up: pipelines, buffers
  const t0 = performance.now()
  for (let r = 0; r < reps; r++) await e.step(((r + 1) * B) % (SHARD - B + 1), B, -0.01 / B, p)
  return (performance.now() - t0) / reps
}

async function gflops(device: GPUDevice, k: MatmulKernel, a: MatmulArgs, reps: number): Promise<number> {
  const rand = mulberry32(2)
  const buf = (floats: number) => {
    const b = device.createBuffer({ size: floats * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST })
    device.queue.writeBuffer(b, 0, randomFloats(rand, floats))
    return { buffer: b, offset: 0 }
  }
  const [A, Bm, C] = [buf(a.M * a.Kd), buf(a.Kd * a.N), buf(a.M * a.N)]
  const run = async (n: number) => {
    const r = new Recorder(device, 'bench.matmul')
    for (let i = 0; i < n; i++) k.record(r, A, Bm, C, a)
    r.submit()
    await device.queue.onSubmittedWorkDone()
  }
  await run(1) // warm-up: the pipeline
  const t0 = performance.now()
  await run(reps)
  const s = (performance.now() - t0) / 1000
  for (const b of [A, Bm, C]) b.buffer.destroy()
  return (2 * a.M * a.N * a.Kd * reps) / s / 1e9
}

export async function benchKernels(): Promise<void> {
  Object.assign(globalThis, globals)
  const gpu = create([])
  const adapter = await gpu.requestAdapter()
  if (!adapter) throw new Error('no WebGPU adapter (is chromium / libvulkan1 installed?)')
  const device = await adapter.requestDevice()
  const models = [
    { name: 'mlp 784→256→128→10', plan: planModel(presetSpec('mlp:256,128', 10), { features: 784, classes: 10, imageShape: [28, 28] }) },
    { name: 'cnn (28×28×1)', plan: planModel(presetSpec('cnn', 10), { features: 784, classes: 10, imageShape: [28, 28] }) },
  ]
  const steps = []
  for (const { name, plan } of models) {
    const g = createGpuEngine(device, plan)
    const c = createCpuEngine(plan)
    const gms = await msPerStep(g, 5)
    const cms = await msPerStep(c, 5)
    g.destroy()
    c.destroy()
    steps.push({ model: name, B, params: plan.size, 'webgpu ms/step': gms.toFixed(1), 'cpu ms/step': cms.toFixed(1), 'cpu / webgpu': (cms / gms).toFixed(2) })
  }
  const k = new MatmulKernel(device)
  const products: { what: string; a: MatmulArgs }[] = [
    { what: 'forward x·Wᵀ', a: { M: B, N: 256, Kd: 4096, transB: true } },
    { what: 'input gradient δ·W', a: { M: B, N: 4096, Kd: 256 } },
    { what: 'weight gradient δᵀ·x', a: { M: 256, N: 4096, Kd: B, transA: true, beta: 1 } },
    { what: 'square 512³', a: { M: 512, N: 512, Kd: 512 } },
  ]
  const mm = []
  for (const { what, a } of products) {
    const plan = k.plan(a)
    const tile = `${4 * plan.wgY}×${4 * plan.wgX}`
    mm.push({ product: what, 'M×N×Kd': `${a.M}×${a.N}×${a.Kd}`, tile, workgroups: `${plan.tiles[0] * plan.tiles[1]}×${plan.splits}`, 'GFLOP/s': (await gflops(device, k, a, 3)).toFixed(3) })
  }
  k.destroy()
  console.log(`\nOne training step (forward, softmax CE, backward, own update, readback of the parts); adapter: ${adapter.info.vendor || '?'} ${adapter.info.architecture || ''} ${adapter.info.description || ''}`)
  console.table(steps)
  console.log('Tiled matmul (64 invocations of 4×4 outputs per tile; workgroups = tiles × depth splits), one submit of 3:')
  console.table(mm)
  device.destroy()
  void gpu // keep the instance alive until here (Dawn frees it when collected)
}
