// The whole GpuEngine against the CpuEngine (model/network.ts) on an MLR, an MLP and a small CNN: steps with mixed
// sf/ps paths, peers' factor and dense parts, evaluate, readModel, the one-submit rule and argument checks.
import { describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import type { Engine, StepOutput } from '../../client/gpu/engine.ts'
import { createGpuEngine } from '../../client/gpu/gpu-engine.ts'
import { evaluateSums } from '../../model/network.ts'
import { initParams } from '../../model/params.ts'
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { parseModelSpec, presetSpec } from '../../model/spec.ts'
import type { Part, Path } from '../../model/update.ts'
import { testDevice, withErrorScope } from './device.ts'
import { expectClose, randomFloats, randomLabels, rng } from './util.ts'

const device = await testDevice()

/** f32 on the GPU against the reference's f64 sums, a few steps apart: tfjs's float32 tolerance. */
const ATOL = 1e-4
const RTOL = 1e-3

const MODELS: { name: string; plan: ModelPlan }[] = [
  { name: 'MLR', plan: planModel(presetSpec('mlr', 4), { features: 37, classes: 4 }) },
  {
    name: 'MLP (two hidden layers)',
    plan: planModel(
      parseModelSpec({ layers: [{ type: 'dense', units: 33, activation: 'relu' }, { type: 'dense', units: 9, activation: 'tanh' }, { type: 'dense', units: 5, activation: 'softmax' }] }),
      { features: 20, classes: 5 },
    ),
  },
  {
    name: 'CNN (conv valid, conv same stride 2, pool, flatten, dense)',
    plan: planModel(
      parseModelSpec({
        inputShape: [9, 8, 2],
        layers: [
          { type: 'conv2d', filters: 3, kernelSize: [3, 2], activation: 'relu' },
          { type: 'conv2d', filters: 4, kernelSize: [2, 3], strides: 2, padding: 'same', activation: 'sigmoid' },
          { type: 'maxPooling2d', poolSize: 2 },
          { type: 'flatten' },
          { type: 'dense', units: 6, activation: 'relu' },
          { type: 'dense', units: 3, activation: 'softmax' },
        ],
      }),
      { features: 9 * 8 * 2, classes: 3 },
    ),
  },
]

function expectSameStep(gpu: StepOutput, cpu: StepOutput): void {
  expectClose([gpu.loss], [cpu.loss], ATOL, RTOL)
  expect(gpu.correct).toBe(cpu.correct)
  expect(gpu.parts.map((p) => [p.tensor, p.path, p.form])).toEqual(cpu.parts.map((p) => [p.tensor, p.path, p.form]))
  gpu.parts.forEach((p, i) => expectClose(p.floats, cpu.parts[i].floats, ATOL, RTOL))
}

async function expectSameModel(gpu: Engine, cpu: Engine): Promise<void> {
  expectClose(await gpu.readModel(), await cpu.readModel(), ATOL, RTOL)
}

/** Paths per tensor: all ps, all sf, or alternating by tensor index. */
function pathsFor(plan: ModelPlan, mode: 'ps' | 'sf' | 'mixed'): Path[] {
  return plan.tensors.map((t) => (mode === 'mixed' ? (t.index % 2 ? 'ps' : 'sf') : mode))
}

/** A peer's update: factors for the factorable tensors, dense deltas for the rest. */
function peerParts(plan: ModelPlan, rows: number, rand: () => number): Part[] {
  return plan.tensors.map((t) =>
    t.factorable
      ? { tensor: t.index, path: 'sf', form: 'factors', floats: randomFloats(rand, rows * (t.rows + t.cols), -0.05, 0.05) }
      : { tensor: t.index, path: 'ps', form: 'dense', floats: randomFloats(rand, t.size, -0.01, 0.01) },
  )
}

function both(plan: ModelPlan): [Engine, Engine] {
  return [createGpuEngine(device, plan), createCpuEngine(plan)]
}

describe('GpuEngine', () => {
  it.each(MODELS)('tracks the CPU engine through steps, peer parts and a grown shard: $name', async ({ plan }) => {
    const rand = rng(plan.size)
    const [gpu, cpu] = both(plan)
    await withErrorScope(device, async () => {
      const arena = initParams(plan)
      for (const e of [gpu, cpu]) e.setModel(arena)
      const B = 6
      let n = 3 * B
      let x = randomFloats(rand, n * plan.inputSize, 0, 1)
      let y = randomLabels(rand, n, plan.classes)
      for (const e of [gpu, cpu]) e.loadShard(x, y, n)
      for (const [row0, mode] of [[0, 'ps'], [B, 'sf'], [2 * B, 'mixed']] as const) {
        const paths = pathsFor(plan, mode)
        expectSameStep(await gpu.step(row0, B, -0.5 / B, paths), await cpu.step(row0, B, -0.5 / B, paths))
      }
      // A peer's parts, as views into a larger frame (non-zero byteOffset), for a different batch size.
      const peerRows = B + 3
      const frame = randomFloats(rand, 3)
      const parts = peerParts(plan, peerRows, rand).map((p) => {
        const host = new Float32Array(3 + p.floats.length)
        host.set(frame)
        host.set(p.floats, 3)
        return { ...p, floats: host.subarray(3) }
      })
      for (const e of [gpu, cpu]) e.apply(parts, peerRows)
      await expectSameModel(gpu, cpu)
      // A larger shard and batch grow the buffers; a step still sees the updates queued before it.
      n = 5 * B + 3
      x = randomFloats(rand, n * plan.inputSize, 0, 1)
      y = randomLabels(rand, n, plan.classes)
      for (const e of [gpu, cpu]) e.loadShard(x, y, n)
      const rows = 2 * B + 1
      const paths = pathsFor(plan, 'sf')
      expectSameStep(await gpu.step(n - rows, rows, -0.5 / rows, paths), await cpu.step(n - rows, rows, -0.5 / rows, paths))
      expectSameStep(await gpu.step(0, 1, -0.5, pathsFor(plan, 'mixed')), await cpu.step(0, 1, -0.5, pathsFor(plan, 'mixed')))
      await expectSameModel(gpu, cpu)
      const evalN = 11
      const ex = randomFloats(rand, evalN * plan.inputSize, 0, 1)
      const ey = randomLabels(rand, evalN, plan.classes)
      const [g, c] = await Promise.all([gpu.evaluate(ex, ey, evalN), cpu.evaluate(ex, ey, evalN)])
      expectClose([g.loss], [c.loss], ATOL, RTOL)
      expect(g.correct).toBe(c.correct)
    })
    gpu.destroy()
    cpu.destroy()
  })

  it('applies peer parts queued while a step is reading back, in call order', async () => {
    const { plan } = MODELS[1]
    const rand = rng(99)
    const [gpu, cpu] = both(plan)
    await withErrorScope(device, async () => {
      for (const e of [gpu, cpu]) e.setModel(initParams(plan))
      const x = randomFloats(rand, 6 * plan.inputSize, 0, 1)
      const y = randomLabels(rand, 6, plan.classes)
      const parts = peerParts(plan, 2, rand)
      for (const e of [gpu, cpu]) e.loadShard(x, y, 6)
      const paths = pathsFor(plan, 'mixed')
      const pending = [gpu, cpu].map((e) => {
        const s = e.step(0, 3, -0.1, paths)
        e.apply(parts, 2)
        return s
      })
      const [g, c] = await Promise.all(pending)
      expectSameStep(g, c)
      expectSameStep(await gpu.step(3, 3, -0.1, paths), await cpu.step(3, 3, -0.1, paths))
      await expectSameModel(gpu, cpu)
    })
    gpu.destroy()
  })

  it('makes one submit and one mapAsync per step, on every model', async () => {
    const submit = device.queue.submit.bind(device.queue)
    const mapAsync = GPUBuffer.prototype.mapAsync
    let submits = 0
    let maps = 0
    device.queue.submit = (cmds) => {
      submits++
      submit(cmds)
    }
    GPUBuffer.prototype.mapAsync = function (...args) {
      maps++
      return mapAsync.apply(this, args)
    }
    try {
      for (const { name, plan } of MODELS) {
        const rand = rng(5)
        const gpu = createGpuEngine(device, plan)
        gpu.loadShard(randomFloats(rand, 8 * plan.inputSize), randomLabels(rand, 8, plan.classes), 8)
        for (const mode of ['ps', 'sf', 'mixed'] as const) {
          submits = maps = 0
          await gpu.step(0, 8, -0.1, pathsFor(plan, mode))
          expect({ name, mode, submits, maps }).toEqual({ name, mode, submits: 1, maps: 1 })
        }
        submits = 0
        gpu.apply(peerParts(plan, 3, rand), 3)
        expect({ name, applySubmits: submits }).toEqual({ name, applySubmits: 1 })
        gpu.destroy()
      }
    } finally {
      device.queue.submit = submit
      GPUBuffer.prototype.mapAsync = mapAsync
    }
  })

  it('reads V of a first dense layer from the host shard, not back from the GPU', async () => {
    const { plan } = MODELS[0]
    const rand = rng(8)
    const gpu = createGpuEngine(device, plan)
    const x = randomFloats(rand, 4 * plan.inputSize)
    gpu.loadShard(x, randomLabels(rand, 4, plan.classes), 4)
    const copy = GPUCommandEncoder.prototype.copyBufferToBuffer
    const copied: number[] = []
    const spy = function (this: GPUCommandEncoder, ...args: unknown[]) {
      copied.push(args[args.length - 1] as number)
      return (copy as (...a: unknown[]) => void).apply(this, args)
    }
    GPUCommandEncoder.prototype.copyBufferToBuffer = spy as unknown as typeof copy
    try {
      const out = await gpu.step(1, 3, -0.1, pathsFor(plan, 'sf'))
      const K = plan.tensors[0].rows
      expect(Array.from(out.parts[0].floats.subarray(3 * K))).toEqual(Array.from(x.subarray(plan.inputSize, 4 * plan.inputSize)))
      // stats (8 bytes), U (3×K floats), the bias delta (K floats): nothing of V's 3×J floats.
      expect(copied).toEqual([8, 3 * K * 4, K * 4])
    } finally {
      GPUCommandEncoder.prototype.copyBufferToBuffer = copy
      gpu.destroy()
    }
  })

  it.each([
    { i: 0, n: 300 },
    { i: 1, n: 1 },
    { i: 2, n: 40 },
    { i: 0, n: 4100 }, // two upload blocks
  ])('evaluates like model/network.ts evaluateSums and leaves the model unchanged, model $i n=$n', async ({ i, n }) => {
    const { plan } = MODELS[i]
    const rand = rng(n)
    const arena = randomFloats(rand, plan.size, -0.5, 0.5)
    const x = randomFloats(rand, n * plan.inputSize, 0, 1)
    const y = randomLabels(rand, n, plan.classes)
    const gpu = createGpuEngine(device, plan)
    await withErrorScope(device, async () => {
      gpu.setModel(arena)
      const got = await gpu.evaluate(x, y, n)
      const ref = evaluateSums(plan, arena, x, y, n)
      expectClose([got.loss], [ref.loss], ATOL, RTOL)
      expect(got.correct).toBe(ref.correct)
      expect(await gpu.evaluate(x, y, 0)).toEqual({ loss: 0, correct: 0 })
      expect(Array.from(await gpu.readModel())).toEqual(Array.from(arena))
    })
    gpu.destroy()
  })

  it('rejects rows outside the loaded shard, wrong-sized inputs and parts, like the CPU engine', async () => {
    const { plan } = MODELS[1]
    for (const e of both(plan)) {
      e.loadShard(new Float32Array(5 * plan.inputSize), new Uint8Array(5), 5)
      const paths = pathsFor(plan, 'ps')
      await expect(e.step(4, 2, 1, paths)).rejects.toThrow(RangeError)
      await expect(e.step(0, 0, 1, paths)).rejects.toThrow(RangeError)
      expect(() => e.setModel(new Float32Array(plan.size - 1))).toThrow(RangeError)
      expect(() => e.apply([{ tensor: 0, path: 'ps', form: 'dense', floats: new Float32Array(3) }], 2)).toThrow(RangeError)
      expect(() => e.apply([{ tensor: 1, path: 'sf', form: 'factors', floats: new Float32Array(2 * (plan.tensors[1].size + 1)) }], 2)).toThrow(RangeError)
      expect(() => e.apply([{ tensor: plan.tensors.length, path: 'ps', form: 'dense', floats: new Float32Array(1) }], 2)).toThrow(RangeError)
      await expect(e.evaluate(new Float32Array(3), new Uint8Array(1), 1)).rejects.toThrow(RangeError)
      e.destroy()
    }
  })

  it('fails with a RangeError naming the limit when a batch cannot fit a storage binding', async () => {
    const plan = planModel(parseModelSpec({ inputShape: [64, 64, 4], layers: [{ type: 'conv2d', filters: 2, kernelSize: 9 }, { type: 'flatten' }, { type: 'dense', units: 2 }] }), { features: 64 * 64 * 4, classes: 2 })
    const gpu = createGpuEngine(device, plan)
    // 56·56 patches of 9·9·4 floats: about 4 MB a sample, so a few hundred rows pass the default 128 MiB binding.
    const rows = Math.ceil(device.limits.maxStorageBufferBindingSize / (56 * 56 * 9 * 9 * 4 * 4)) + 1
    gpu.loadShard(new Float32Array(rows * plan.inputSize), new Uint8Array(rows), rows)
    await expect(gpu.step(0, rows, -0.1, pathsFor(plan, 'ps'))).rejects.toThrow(/storage binding/)
    gpu.destroy()
  })
})
