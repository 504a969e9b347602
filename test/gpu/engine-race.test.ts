// client/gpu/engine-race.ts: both engines timed on the job's model at join, the faster kept; and through a whole
// session, the engine the worker made is the one the coordinator lists (ready names it; hello only guessed).
import { describe, expect, it } from 'vitest'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { backendFor } from '../../client/gpu/engine-choice.ts'
import { raceEngines, type RaceResult } from '../../client/gpu/engine-race.ts'
import type { Engine } from '../../client/gpu/engine.ts'
import { createGpuEngine } from '../../client/gpu/gpu-engine.ts'
import { planModel } from '../../model/plan.ts'
import { presetSpec } from '../../model/spec.ts'
import { startNodeGrid, until } from '../sim/node-grid.ts'
import { testDevice } from './device.ts'

const device = await testDevice()
const plan = planModel(presetSpec('mlp:16', 10), { features: 784, classes: 10, imageShape: [28, 28] })

describe('raceEngines', () => {
  it('keeps the faster engine and frees the other: on SwiftShader, WGSL emulated on the CPU loses to the CPU kernels', async () => {
    const destroyed: string[] = []
    const watch = (e: Engine) => {
      const destroy = e.destroy.bind(e)
      e.destroy = () => (destroyed.push(e.kind), destroy())
      return e
    }
    const r = await raceEngines([() => watch(createGpuEngine(device, plan)), () => watch(createCpuEngine(plan))], plan, 16)
    expect(r.engine.kind).toBe('cpu')
    expect(r.msPerStep.cpu).toBeLessThan(r.msPerStep.webgpu!)
    expect(r.why).toMatch(/^the faster on mlp:16 at B=16, timed at join: CPU [\d.]+ ms\/step, WebGPU [\d.]+ ms\/step$/)
    expect(destroyed).toEqual(['webgpu'])
    r.engine.destroy()
  })

  it('orders by the timed steps, whatever the kinds', async () => {
    // a clock that charges the CPU engine 50 ms per step and the GPU one nothing: the GPU engine wins
    let t = 0
    const slowCpu = () => {
      const e = createCpuEngine(plan)
      const step = e.step.bind(e)
      e.step = async (...a) => {
        const out = await step(...a)
        t += 50
        return out
      }
      return e
    }
    const r = await raceEngines([slowCpu, () => createGpuEngine(device, plan)], plan, 8, () => t)
    expect(r.engine.kind).toBe('webgpu')
    expect(r.msPerStep.cpu).toBe(50)
    r.engine.destroy()
  })

  it('drops a candidate that cannot be built, and throws only when none can', async () => {
    const tooBig = (): Engine => {
      throw new RangeError('the model does not fit this GPU')
    }
    const r = await raceEngines([tooBig, () => createCpuEngine(plan)], plan, 4)
    expect(r.engine.kind).toBe('cpu')
    expect(Object.keys(r.msPerStep)).toEqual(['cpu'])
    await expect(raceEngines([tooBig], plan, 4)).rejects.toThrow('does not fit')
  })
})

describe('a timed backend in a session', () => {
  it('says webgpu in hello, trains with the faster (CPU here), and the coordinator lists the engine the worker made', async () => {
    const results: RaceResult[] = []
    const timed = backendFor('webgpu', device, (r) => results.push(r))
    const g = await startNodeGrid(2, { epochs: 1, batch: 8, shardSize: 32, staleness: 1 }, { model: 'mlp:16', trainLimit: 256 }, {}, (i) =>
      i === 0 ? timed : backendFor('cpu'),
    )
    try {
      await until(() => g.job.state === 'done', 60_000, 'the job to finish')
      await Promise.all(g.runs)
      expect(results.map((r) => r.engine.kind)).toEqual(['cpu'])
      expect([...g.job.enginesByWorker.values()]).toEqual(['cpu', 'cpu'])
      const models = await Promise.all(g.workers.map((w) => w.readModel()))
      for (const m of models) for (let i = 0; i < m.length; i += 97) expect(m[i]).toBeCloseTo(g.job.replica.params[i], 5)
    } finally {
      await g.close()
    }
  })
})
