// SSP against BSP with a straggler: the same job on 4 Node workers, one of them slow at random, s=0 vs s=3.
import type { Backend } from '../client/train/session.ts'
import { createCpuEngine } from '../client/gpu/cpu-engine.ts'
import { startNodeGrid, until } from '../test/sim/node-grid.ts'
import { mulberry32 } from '../test/helpers/random.ts'

/** Worker 0 stalls 60 ms before one step in ten (a laptop busy with something else); the others never do. */
function straggler(seed: number) {
  const rand = mulberry32(seed)
  return (i: number): Backend => ({
    kind: 'cpu',
    create(plan) {
      const e = createCpuEngine(plan)
      if (i !== 0) return e
      const step = e.step.bind(e)
      e.step = async (...a) => {
        if (rand() < 0.1) await new Promise((r) => setTimeout(r, 60))
        return step(...a)
      }
      return e
    },
  })
}

async function once(staleness: number) {
  const g = await startNodeGrid(4, { staleness, batch: 8, shardSize: 50, epochs: 1 }, { data: 'builtin', trainLimit: 2000 }, { seed: 9, latencyMs: [1, 4] }, straggler(7))
  const t0 = performance.now()
  await until(() => g.job.state === 'done', 300_000, 'job done')
  const secs = (performance.now() - t0) / 1000
  await g.job.settled()
  const r = { staleness, seconds: secs, samplesPerSecond: g.job.samples / secs, accuracy: g.job.curve.last!.testAccuracy, maxObservedStaleness: g.job.ssp.maxObservedStaleness }
  await Promise.all(g.runs)
  await g.close()
  return r
}

export async function benchStaleness(): Promise<void> {
  const bsp = await once(0)
  const ssp = await once(3)
  console.log('\nSSP vs BSP, 4 Node workers (CPU engine, simulated links 1–4 ms), one straggler stalling 60 ms on 10 % of its clocks, 2000 samples')
  console.table([bsp, ssp].map((r) => ({ s: r.staleness, 'samples/s': r.samplesPerSecond.toFixed(0), seconds: r.seconds.toFixed(2), 'test acc': r.accuracy.toFixed(3), 'max staleness seen': r.maxObservedStaleness })))
  console.log(`throughput ratio s=3 / s=0: ${(ssp.samplesPerSecond / bsp.samplesPerSecond).toFixed(2)}×`)
}
