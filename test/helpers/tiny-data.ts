// A small random dataset, a small MLP planned on it, and update frames shaped for it: for tests of the core.
import { clipParts } from '../../model/clip.ts'
import { trainStep } from '../../model/network.ts'
import type { Outbox } from '../../coordinator/core/job.ts'
import { JobCore } from '../../coordinator/core/job.ts'
import type { Dataset } from '../../coordinator/data/index.ts'
import { planModel, type ModelPlan } from '../../model/plan.ts'
import { parseModelSpec, type ModelSpec } from '../../model/spec.ts'
import { formOf, partLength, type Part, type Path } from '../../model/update.ts'
import { encodeFrame } from '../../protocol/frames.ts'
import { HyperSchema, type Hyper, type JobInfo } from '../../protocol/job.ts'
import type { View } from '../../protocol/messages.ts'
import { mulberry32, randomFloats } from './random.ts'

export function tinyDataset(n = 40, J = 40, K = 3, seed = 1): Dataset {
  const rand = mulberry32(seed)
  const split = (m: number) => {
    const x = new Float32Array(m * J)
    const y = new Uint8Array(m)
    for (let i = 0; i < m; i++) {
      y[i] = Math.floor(rand() * K)
      for (let j = 0; j < J; j++) x[i * J + j] = rand() + (j === y[i] ? 1 : 0)
    }
    return { n: m, x, y }
  }
  return { name: 'tiny', source: 'test', features: J, classes: K, labels: Array.from({ length: K }, (_, i) => String(i)), train: split(n), test: split(20) }
}

/** dense(32, tanh) → dense(K, softmax): at B=4 and 2 workers the 32×40 kernel goes sf, everything else ps. */
export function tinyModel(K = 3): ModelSpec {
  return parseModelSpec({ layers: [{ type: 'dense', units: 32, activation: 'tanh' }, { type: 'dense', units: K, activation: 'softmax' }] })
}

export function tinyInfo(data: Dataset, hyper: Partial<Hyper> = {}, model = tinyModel(data.classes)): Omit<JobInfo, 'state' | 'bounds'> {
  // re-computation off: these tests drive the core with updates computed on the replica, not from a stated view
  const h = HyperSchema.parse({ batch: 4, shardSize: 10, epochs: 1, staleness: 1, minWorkers: 2, verifyRate: 0, ...hyper })
  return {
    id: 'j-test',
    name: 'test job',
    model,
    dataset: { name: data.name, features: data.features, classes: data.classes, train: data.train.n, test: data.test.n },
    hyper: h,
    shards: { count: Math.ceil(data.train.n / h.shardSize), size: h.shardSize },
  }
}

/** A JobCore on the tiny data and model, evaluating in this thread. */
export function tinyJob(out: Outbox, now: () => number, hyper: Partial<Hyper> = {}, data = tinyDataset()): JobCore {
  const info = tinyInfo(data, hyper)
  return new JobCore(info, planModel(info.model, data), data, out, { now })
}

/** Random parts for every tensor on the given paths (factors for sf, dense for ps), scaled small. */
export function randomParts(plan: ModelPlan, paths: readonly Path[], rows: number, rand: () => number): Part[] {
  return plan.tensors.map((t) => {
    const form = formOf(paths[t.index])
    return { tensor: t.index, path: paths[t.index], form, floats: randomFloats(rand, partLength(t, form, rows), 0.1) }
  })
}

/**
 * An honest update of `worker` for clock/prev: one SGD step on the next `rows` of the shard it holds, at its lease's
 * rate, computed on the coordinator's replica (or `from.params`, stating `from.view`), on the job's current paths. It
 * passes the coordinator's checks.
 */
export function workerUpdate(job: JobCore, worker: string, clock: number, prev: number, rows: number, p2pTo: string[] = [], from: { params?: Float32Array; view?: View } = {}) {
  // a worker without a lease (the coordinator will refuse it) gets a step on the first rows
  const held = job.ledger.leasesOf(worker)[0] ?? { shard: 0, rows: 0, lr: job.lr }
  const start = held.shard * job.info.shards.size + held.rows
  // every row weighs lr / B (client/train/loop.ts)
  const B = job.info.hyper.batch
  const step = trainStep(job.plan, from.params ?? job.replica.params, job.data.train.x, job.data.train.y, start, rows, -held.lr / B, job.comm.paths)
  // clipped to the job's bounds, as an honest worker does
  const { parts } = clipParts(job.plan.tensors, step.parts, rows, (held.lr * rows) / B, job.guard.bounds)
  const view = from.view ?? { vc: {}, psUpTo: 0 }
  const msg = { type: 'update' as const, loss: 1, correct: 0, p2pTo, frame: encodeFrame({ clock, prev, rows, parts }), view }
  return { msg, parts, rows }
}
