// The whole GpuEngine against the CpuEngine (model/mlr.ts): steps in both modes, peer updates, evaluate, readback.
import { describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { createGpuEngine, type Engine, type StepResult } from '../../client/gpu/engine.ts'
import { evaluate } from '../../model/mlr.ts'
import { testDevice, withErrorScope } from './device.ts'
import { expectClose, randomFloats, randomLabels, rng } from './util.ts'

const device = await testDevice()

function expectSameStep(gpu: StepResult, cpu: StepResult): void {
  expectClose(gpu.U, cpu.U)
  expectClose([gpu.loss], [cpu.loss])
  expect(gpu.correct).toBe(cpu.correct)
  expect(gpu.dense === undefined).toBe(cpu.dense === undefined)
  if (gpu.dense && cpu.dense) {
    expectClose(gpu.dense.W, cpu.dense.W)
    expectClose(gpu.dense.b, cpu.dense.b)
  }
}

async function expectSameModel(gpu: Engine, cpu: Engine): Promise<void> {
  const [g, c] = await Promise.all([gpu.readModel(), cpu.readModel()])
  expectClose(g.W, c.W)
  expectClose(g.b, c.b)
}

describe('GpuEngine', () => {
  it.each([
    { K: 10, J: 784, B: 8 },
    { K: 3, J: 5, B: 1 },
    { K: 7, J: 129, B: 33 },
  ])('tracks the CPU engine through steps and peer updates, K=$K J=$J B=$B', async ({ K, J, B }) => {
    const dims = { K, J }
    const rand = rng(K + J + B)
    const gpu = createGpuEngine(device, dims)
    const cpu = createCpuEngine(dims)
    const lr = 0.5
    await withErrorScope(device, async () => {
      const model = { W: randomFloats(rand, K * J, -0.05, 0.05), b: randomFloats(rand, K, -0.1, 0.1) }
      for (const e of [gpu, cpu]) e.setModel(model)
      let n = 3 * B
      let x = randomFloats(rand, n * J, 0, 1)
      let y = randomLabels(rand, n, K)
      for (const e of [gpu, cpu]) e.loadShard(x, y, n)
      for (const [row0, mode] of [[0, 'factors'], [B, 'dense'], [2 * B, 'factors']] as const) {
        expectSameStep(await gpu.step(row0, B, -lr / B, mode), await cpu.step(row0, B, -lr / B, mode))
      }
      // A peer's factors, as views into a larger frame (non-zero byteOffset), and a peer's dense update.
      const peerRows = B + 2
      const frame = randomFloats(rand, 1 + peerRows * (K + J), -0.1, 0.1)
      const U = frame.subarray(1, 1 + peerRows * K)
      const V = frame.subarray(1 + peerRows * K)
      const dense = randomFloats(rand, 3 + K * J + K, -0.01, 0.01)
      for (const e of [gpu, cpu]) {
        e.applyFactors(U, V, peerRows)
        e.applyDense(dense.subarray(3, 3 + K * J), dense.subarray(3 + K * J))
      }
      await expectSameModel(gpu, cpu)
      // A larger shard and batch grow the buffers; a step still sees updates queued before it.
      n = 5 * B + 3
      x = randomFloats(rand, n * J, 0, 1)
      y = randomLabels(rand, n, K)
      for (const e of [gpu, cpu]) e.loadShard(x, y, n)
      const rows = 2 * B + 1
      expectSameStep(await gpu.step(n - rows, rows, -lr / rows, 'dense'), await cpu.step(n - rows, rows, -lr / rows, 'dense'))
      expectSameStep(await gpu.step(0, rows, -lr / rows, 'factors'), await cpu.step(0, rows, -lr / rows, 'factors'))
      await expectSameModel(gpu, cpu)
    })
    gpu.destroy()
    cpu.destroy()
  })

  it('applies a peer update queued while a step is reading back, in call order', async () => {
    const dims = { K: 4, J: 9 }
    const rand = rng(99)
    const gpu = createGpuEngine(device, dims)
    const cpu = createCpuEngine(dims)
    await withErrorScope(device, async () => {
      const x = randomFloats(rand, 6 * dims.J, 0, 1)
      const y = randomLabels(rand, 6, dims.K)
      const U = randomFloats(rand, 2 * dims.K, -0.1, 0.1)
      const V = randomFloats(rand, 2 * dims.J)
      for (const e of [gpu, cpu]) e.loadShard(x, y, 6)
      const pending = [gpu, cpu].map((e) => {
        const s = e.step(0, 3, -0.1, 'factors')
        e.applyFactors(U, V, 2)
        return s
      })
      const [g, c] = await Promise.all(pending)
      expectSameStep(g, c)
      expectSameStep(await gpu.step(3, 3, -0.1, 'factors'), await cpu.step(3, 3, -0.1, 'factors'))
      await expectSameModel(gpu, cpu)
    })
    gpu.destroy()
  })

  it('makes one submit and one mapAsync per step', async () => {
    const dims = { K: 5, J: 11 }
    const rand = rng(5)
    const gpu = createGpuEngine(device, dims)
    gpu.loadShard(randomFloats(rand, 8 * dims.J), randomLabels(rand, 8, dims.K), 8)
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
      for (const mode of ['factors', 'dense'] as const) {
        submits = maps = 0
        await gpu.step(0, 8, -0.1, mode)
        expect({ mode, submits, maps }).toEqual({ mode, submits: 1, maps: 1 })
      }
    } finally {
      device.queue.submit = submit
      GPUBuffer.prototype.mapAsync = mapAsync
      gpu.destroy()
    }
  })

  it.each([
    { K: 10, J: 20, n: 300 },
    { K: 3, J: 5, n: 1 },
    { K: 4, J: 3, n: 5000 }, // more than one upload block
  ])('evaluates like model/mlr.ts evaluate, K=$K J=$J n=$n', async ({ K, J, n }) => {
    const dims = { K, J }
    const rand = rng(n)
    const model = { W: randomFloats(rand, K * J, -0.5, 0.5), b: randomFloats(rand, K) }
    const x = randomFloats(rand, n * J, 0, 1)
    const y = randomLabels(rand, n, K)
    const gpu = createGpuEngine(device, dims)
    const cpu = createCpuEngine(dims)
    await withErrorScope(device, async () => {
      for (const e of [gpu, cpu]) e.setModel(model)
      const got = await gpu.evaluate(x, y, n)
      const ref = evaluate(dims, model, x, y, n)
      expectClose([got.loss], [ref.loss * n])
      expect(got.correct).toBe(Math.round(ref.accuracy * n))
      expect(await cpu.evaluate(x, y, n)).toEqual({ loss: ref.loss * n, correct: got.correct })
      const after = await gpu.readModel()
      expect(after.W).toEqual(model.W)
      expect(after.b).toEqual(model.b)
    })
    gpu.destroy()
  })

  it('rejects rows outside the loaded shard and wrong-sized inputs', async () => {
    const gpu = createGpuEngine(device, { K: 3, J: 4 })
    gpu.loadShard(new Float32Array(20), new Uint8Array(5), 5)
    await expect(gpu.step(4, 2, 1, 'factors')).rejects.toThrow(RangeError)
    await expect(gpu.step(0, 0, 1, 'factors')).rejects.toThrow(RangeError)
    expect(() => gpu.applyDense(new Float32Array(11), new Float32Array(3))).toThrow(RangeError)
    expect(() => gpu.setModel({ W: new Float32Array(12), b: new Float32Array(2) })).toThrow(RangeError)
    gpu.destroy()
  })
})
