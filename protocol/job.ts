// A job's description as the API takes it and as workers receive it.
import { z } from 'zod'

/** Hyperparameters an operator may set; the defaults make the built-in job. */
export const HyperSchema = z.object({
  lr: z.number().finite().positive().max(100).default(0.2),
  batch: z.number().int().min(1).max(4096).default(8),
  staleness: z.number().int().min(0).max(1_000_000).default(2),
  fanout: z.number().int().min(1).max(256).optional(),
  epochs: z.number().int().min(1).max(10_000).default(2),
  shardSize: z.number().int().min(1).max(1_000_000).default(250),
  minWorkers: z.number().int().min(1).max(256).default(1),
  stallTimeoutMs: z.number().int().min(500).max(3_600_000).default(30_000),
  linkTimeoutMs: z.number().int().min(100).max(120_000).default(8_000),
})
export type Hyper = z.infer<typeof HyperSchema>

/** Body of POST /api/jobs. */
export const CreateJobSchema = z.object({
  name: z.string().min(1).max(80).optional(),
  model: z.literal('mlr').default('mlr'),
  data: z.string().min(1).max(4096).default('builtin'),
  trainLimit: z.number().int().positive().optional(),
  hyper: HyperSchema.default(HyperSchema.parse({})),
})
export type CreateJob = z.infer<typeof CreateJobSchema>

export type JobState = 'pending' | 'running' | 'paused' | 'done' | 'failed'

/** What a worker needs to know about its job. */
export interface JobInfo {
  id: string
  name: string
  state: JobState
  model: 'mlr'
  dims: { K: number; J: number }
  dataset: { name: string; features: number; classes: number; train: number; test: number; imageShape?: [number, number] }
  hyper: Hyper
  shards: { count: number; size: number }
}

/** One row of GET /api/jobs. */
export interface JobSummary {
  id: string
  name: string
  state: JobState
  workers: number
  minClock: number
  maxClock: number
  maxObservedStaleness: number
  epoch: number
  shardsDone: number
  shardsTotal: number
  testAccuracy: number | null
  testLoss: number | null
  samplesPerSecond: number
  createdAt: number
  hyper: Hyper
  dataset: JobInfo['dataset']
}
