// P workers under Stale Synchronous Parallel in one process: one replica each, the coordinator's shard order and
// learning-rate schedule, plain SGD with batch B on every shard. The figures, not the speed, of the real grid.
import { learningRate, type Schedule } from '../../apps/sgd/schedule.ts'
import type { Dataset, Split } from '../../coordinator/data/types.ts'
import { evaluate, trainStep } from '../../model/network.ts'
import { initParams } from '../../model/params.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { mulberry32 } from '../../model/random.ts'
import { applyParts, type Part } from '../../model/update.ts'

export interface SimConfig extends Schedule {
  batch: number
  epochs: number
  workers: number
  staleness: number
  shardSize: number
  /** Test evaluations per epoch (after every shards/evalsPerEpoch completed shards, and at each epoch's end). */
  evalsPerEpoch: number
  seed: number
}

export interface EvalPoint {
  /** Fractional epochs done (completed shards / shards per epoch). */
  epoch: number
  accuracy: number
  loss: number
  /** The learning rate of the latest lease. */
  lr: number
}

export interface SimResult {
  curve: EvalPoint[]
  diverged: boolean
  /** The most updates of other workers a replica had not applied yet when it stepped (all within the SSP bound). */
  maxUnapplied: number
  seconds: number
}

interface Pending {
  /** Applied to the receiver before it computes a clock ≥ this (at the latest clock + s + 1 of the sender). */
  due: number
  parts: Part[]
  rows: number
}

interface Worker {
  clock: number
  lease: { end: number; row: number; lr: number } | null
  done: boolean
  inbox: Pending[]
}

/**
 * Runs the job: shards of `shardSize` rows handed out lowest epoch first (in order), η from the schedule at each
 * lease (fractional epochs done = completed shards / shards), one clock per batch. The next worker to step is drawn
 * at random among those the SSP bound lets go (clock ≤ slowest + s); each update is applied to its sender's replica
 * at once and to every other replica at a random clock of the receiver up to the bound. The model evaluated is the
 * sum of all updates so far (what the job ends with). `test` is the evaluation set (a subsample to keep runs fast).
 */
export function simulate(plan: ModelPlan, data: Dataset, test: Split, cfg: SimConfig, onEval?: (p: EvalPoint) => void): SimResult {
  const t0 = performance.now()
  const rand = mulberry32(cfg.seed)
  const { n, x: X, y: Y } = data.train
  const shards = Math.ceil(n / cfg.shardSize)
  const total = shards * cfg.epochs
  const paths = plan.tensors.map(() => 'ps' as const)
  const master = initParams(plan)
  const replicas = Array.from({ length: cfg.workers }, () => master.slice())
  const workers: Worker[] = replicas.map(() => ({ clock: 0, lease: null, done: false, inbox: [] }))
  const curve: EvalPoint[] = []
  let leased = 0
  let completed = 0
  let lr = learningRate(cfg, 0)
  let maxUnapplied = 0
  let diverged = false
  const evalEvery = Math.max(1, Math.round(shards / cfg.evalsPerEpoch))
  const record = () => {
    const r = evaluate(plan, master, test.x, test.y, test.n)
    const p = { epoch: completed / shards, accuracy: r.accuracy, loss: r.loss, lr }
    curve.push(p)
    onEval?.(p)
    if (!Number.isFinite(r.loss)) diverged = true
  }
  record()

  while (!diverged) {
    const active = workers.filter((w) => !w.done)
    if (active.length === 0) break
    const slowest = Math.min(...active.map((w) => w.clock))
    const ready = active.filter((w) => w.clock <= slowest + cfg.staleness)
    const i = workers.indexOf(ready[Math.floor(rand() * ready.length)])
    const w = workers[i]
    if (!w.lease) {
      if (leased === total) {
        w.done = true
        continue
      }
      const shard = leased++ % shards
      lr = learningRate(cfg, completed / shards)
      // as the coordinator does: each lease carries the rate divided by the workers (one clock's P updates = one step)
      w.lease = { row: shard * cfg.shardSize, end: Math.min(n, (shard + 1) * cfg.shardSize), lr: lr / cfg.workers }
    }
    // Others' updates that are due now (or whose random delay is up) land on this replica before it steps.
    for (const u of w.inbox) if (u.due <= w.clock) applyParts(replicas[i], plan.tensors, u.parts, u.rows)
    w.inbox = w.inbox.filter((u) => u.due > w.clock)
    maxUnapplied = Math.max(maxUnapplied, w.inbox.length)
    const l = w.lease
    const rows = Math.min(cfg.batch, l.end - l.row)
    const step = trainStep(plan, replicas[i], X, Y, l.row, rows, -l.lr / rows, paths)
    applyParts(replicas[i], plan.tensors, step.parts, rows)
    applyParts(master, plan.tensors, step.parts, rows)
    for (const [j, o] of workers.entries()) {
      if (j === i || o.done) continue
      // Due at a clock of the receiver drawn from [its next clock, this clock + s + 1]: the SSP read guarantee.
      const latest = w.clock + cfg.staleness + 1
      o.inbox.push({ due: o.clock + Math.floor(rand() * (latest - o.clock + 1)), parts: step.parts, rows })
    }
    w.clock++
    l.row += rows
    if (!Number.isFinite(step.loss)) diverged = true
    if (l.row === l.end) {
      w.lease = null
      completed++
      if (completed % evalEvery === 0 || completed % shards === 0) record()
    }
  }
  if (diverged && Number.isFinite(curve[curve.length - 1].loss)) record()
  return { curve, diverged, maxUnapplied, seconds: (performance.now() - t0) / 1000 }
}
