// Bytes per clock, Poseidon's hybrid vs all-SF vs all-PS, for 4, 16 and 64 simulated workers: the real job core and
// its traffic accounting, driven by P workers sending real SGD steps (on a data set of zeros: only shapes matter here; no sockets).
import { JobCore, type Outbox } from '../coordinator/core/job.ts'
import type { Dataset } from '../coordinator/data/index.ts'
import { planModel } from '../model/plan.ts'
import { presetSpec } from '../model/spec.ts'
import { HyperSchema, type Hyper } from '../protocol/job.ts'
import { mulberry32 } from '../test/helpers/random.ts'
import { workerUpdate } from '../test/helpers/tiny-data.ts'

const silent: Outbox = { send() {}, evict() {} }
const CLOCKS = 3
const B = 32

/** A data set of the right shape for the model (the bench never computes on it). */
function shapeOnly(P: number): Dataset {
  const n = P * CLOCKS * B
  return { name: 'shape-only', source: 'bench', features: 784, classes: 10, labels: [], imageShape: [28, 28], train: { n, x: new Float32Array(n * 784), y: new Uint8Array(n) }, test: { n: 0, x: new Float32Array(0), y: new Uint8Array(0) } }
}

/** Mean bytes one worker moves per clock (sent + received, every tensor), and the paths the job used. */
function bytesPerClock(model: string, P: number, paths: Hyper['paths']): { bytes: number; paths: string } {
  const data = shapeOnly(P)
  const hyper = HyperSchema.parse({ batch: B, shardSize: CLOCKS * B, epochs: 1, staleness: 0, minWorkers: P, paths })
  const spec = presetSpec(model, 10)
  const info = { id: 'bench', name: 'bench', model: spec, dataset: { name: data.name, features: 784, classes: 10, train: data.train.n, test: 0, imageShape: [28, 28] as [number, number] }, hyper, shards: { count: P, size: CLOCKS * B } }
  const job = new JobCore(info, planModel(spec, data), data, silent, { evaluator: async () => ({ loss: 0, accuracy: 0 }) })
  const rand = mulberry32(P)
  const ids = Array.from({ length: P }, (_, i) => `w${i}`)
  for (const w of ids) job.hello(w, { type: 'hello', engine: 'cpu' })
  for (const w of ids) job.ready(w)
  for (const w of ids) job.lease(w)
  for (let c = 0; c < CLOCKS; c++) {
    for (const w of ids) {
      // full broadcast: every update goes directly to every other worker
      const r = job.update(w, workerUpdate(job, w, c, c - 1, B, ids.filter((p) => p !== w)).msg)
      if (!r.ok) throw new Error(`${r.code}: ${r.reason}`)
    }
  }
  const total = job.traffic.tensors(job.comm.paths).reduce((s, t) => s + t.sent + t.received, 0)
  return { bytes: total / (P * CLOCKS), paths: job.comm.paths.join(' ') }
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(2)} MiB`
}

export async function benchComm(): Promise<void> {
  for (const model of ['mlp:256,128', 'mlp:1024,1024']) {
    const rows = []
    for (const P of [4, 16, 64]) {
      const hybrid = bytesPerClock(model, P, 'auto')
      const sf = bytesPerClock(model, P, 'sf')
      const ps = bytesPerClock(model, P, 'ps')
      rows.push({
        workers: P,
        'hybrid paths': hybrid.paths,
        'hybrid /clock/worker': mib(hybrid.bytes),
        'all-SF': mib(sf.bytes),
        'all-PS': mib(ps.bytes),
        'all-SF / hybrid': (sf.bytes / hybrid.bytes).toFixed(2),
        'all-PS / hybrid': (ps.bytes / hybrid.bytes).toFixed(2),
      })
    }
    console.log(`\nBytes a worker sends + receives per clock, ${model} on 784 inputs, B=${B}, full broadcast (job core + traffic accounting, random updates)`)
    console.table(rows)
  }
}
