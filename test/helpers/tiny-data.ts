// A small random dataset and job info for tests of the coordinator core.
import type { Dataset } from '../../coordinator/data/index.ts'
import { HyperSchema, type Hyper, type JobInfo } from '../../protocol/job.ts'
import { mulberry32 } from './random.ts'

export function tinyDataset(n = 40, J = 6, K = 3, seed = 1): Dataset {
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

export function tinyInfo(data: Dataset, hyper: Partial<Hyper> = {}): Omit<JobInfo, 'state'> {
  const h = HyperSchema.parse({ batch: 4, shardSize: 10, epochs: 1, staleness: 1, minWorkers: 2, ...hyper })
  return {
    id: 'j-test',
    name: 'test job',
    model: 'mlr',
    dims: { K: data.classes, J: data.features },
    dataset: { name: data.name, features: data.features, classes: data.classes, train: data.train.n, test: data.test.n },
    hyper: h,
    shards: { count: Math.ceil(data.train.n / h.shardSize), size: h.shardSize },
  }
}
