// The coordinator's jobs: creation from a spec (dataset → dims, shards) and lookup.
import { randomBytes } from 'node:crypto'
import { CreateJobSchema, type CreateJob } from '../protocol/job.ts'
import { loadDataset, type Dataset } from './data/index.ts'
import { JobCore, type Outbox } from './core/job.ts'

export class JobStore {
  readonly jobs = new Map<string, JobCore>()
  private readonly datasets = new Map<string, Promise<Dataset>>()

  constructor(private readonly out: Outbox) {}

  /** Creates a job from an (already validated or partial) spec; the dataset is loaded once per spec. */
  async create(input: Partial<CreateJob>): Promise<JobCore> {
    const spec = CreateJobSchema.parse(input)
    const key = `${spec.data}|${spec.trainLimit ?? ''}`
    let ds = this.datasets.get(key)
    if (!ds) {
      const loading = loadDataset(spec.data, { trainLimit: spec.trainLimit })
      this.datasets.set(key, loading)
      loading.catch(() => this.datasets.delete(key))
      ds = loading
    }
    const data = await ds
    const id = `j-${randomBytes(4).toString('hex')}`
    const size = Math.min(spec.hyper.shardSize, data.train.n)
    const job = new JobCore(
      {
        id,
        name: spec.name ?? `${spec.model} on ${data.name}`,
        model: spec.model,
        dims: { K: data.classes, J: data.features },
        dataset: {
          name: data.name,
          features: data.features,
          classes: data.classes,
          train: data.train.n,
          test: data.test.n,
          ...(data.imageShape ? { imageShape: data.imageShape } : {}),
        },
        hyper: spec.hyper,
        shards: { count: Math.ceil(data.train.n / size), size },
      },
      data,
      this.out,
    )
    this.jobs.set(id, job)
    return job
  }

  get(id: string): JobCore | undefined {
    return this.jobs.get(id)
  }

  /** The job a volunteer who names none joins: the newest one still taking work. */
  defaultJob(): JobCore | undefined {
    const open = [...this.jobs.values()].filter((j) => j.state === 'running' || j.state === 'pending')
    return open[open.length - 1]
  }

  tick(): void {
    for (const j of this.jobs.values()) j.tick()
  }
}
