// Issue 9 on the grid's own coordinator: rounds of the Lasso job core (coordinator/core/lasso-job.ts: blocks leased to
// workers, rounds pipelined under staleness s, a coordinate never in two rounds at once) to the sequential optimum,
// SAP vs Shotgun at 4 and 8 in-process workers (float32 residuals, as tabs hold them). Prints a table of ratios.
// npx tsx bench/lasso-grid.ts [--n 1000] [--p 4000] [--workers 4,8] [--picks 8] [--staleness 1] [--max-rounds 60000]
// The default size takes about a minute on a 2-core machine; bench/lasso.ts runs the same comparison without the grid.
import { parseArgs } from 'node:util'
import { correlatedData } from '../apps/lasso/data.ts'
import { lambdaMax } from '../apps/lasso/objective.ts'
import { sequentialLasso } from '../apps/lasso/reference.ts'
import { CoreGrid } from '../test/helpers/lasso-core.ts'

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    p: { type: 'string', default: '4000' },
    workers: { type: 'string', default: '4,8' },
    picks: { type: 'string', default: '8' },
    staleness: { type: 'string', default: '1' },
    'lambda-frac': { type: 'string', default: '0.1' },
    'block-columns': { type: 'string', default: '250' },
    'max-rounds': { type: 'string', default: '60000' },
    seed: { type: 'string', default: '1' },
  },
})
const t0 = performance.now()
const d = correlatedData({ n: Number(a.n), p: Number(a.p), seed: Number(a.seed) })
const lambda = Number(a['lambda-frac']) * lambdaMax(d)
const ref = sequentialLasso(d, lambda, { tolerance: 1e-10 })
const target = ref.objective * (1 + 1e-4)
const maxRounds = Number(a['max-rounds'])
console.log(`${d.name}, λ = ${a['lambda-frac']}·λmax = ${lambda.toPrecision(4)}; sequential reference ${ref.objective.toPrecision(8)} (${ref.sweeps} sweeps)`)
console.log(`target: objective ≤ reference·(1 + 1e-4); ${a.picks} picks a worker a round, s = ${a.staleness}, rounds capped at ${maxRounds}\n`)

interface Run {
  rounds: number | null
  final: number
  ms: number
}

async function run(scheduler: 'sap' | 'shotgun', workers: number): Promise<Run> {
  const start = performance.now()
  const g = new CoreGrid(d, {
    scheduler,
    lambda,
    picks: Number(a.picks),
    staleness: Number(a.staleness),
    blockColumns: Number(a['block-columns']),
    verifyRate: 0,
    maxRounds,
    tolerance: 1e-7,
  })
  for (let i = 0; i < workers; i++) await g.join()
  let reached: number | null = null
  g.run(() => {
    if (reached === null && g.job.objective <= target) reached = g.job.completed + 1
    return reached !== null || g.job.state === 'done'
  })
  return { rounds: reached, final: g.job.objective, ms: performance.now() - start }
}

const rows: Array<{ workers: number; sap: Run; shotgun: Run }> = []
for (const w of a.workers.split(',').map(Number)) rows.push({ workers: w, sap: await run('sap', w), shotgun: await run('shotgun', w) })
const fmt = (r: Run) => (r.rounds === null ? `> ${maxRounds} (at ${(r.final / ref.objective - 1).toExponential(1)} over)` : String(r.rounds))
console.log('| workers | SAP rounds | Shotgun rounds | Shotgun / SAP | SAP time | Shotgun time |')
console.log('| --- | --- | --- | --- | --- | --- |')
for (const r of rows) {
  const ratio = r.sap.rounds && r.shotgun.rounds ? (r.shotgun.rounds / r.sap.rounds).toFixed(2) : r.sap.rounds ? `> ${(maxRounds / r.sap.rounds).toFixed(2)}` : '–'
  console.log(`| ${r.workers} | ${fmt(r.sap)} | ${fmt(r.shotgun)} | ${ratio} | ${(r.sap.ms / 1000).toFixed(1)} s | ${(r.shotgun.ms / 1000).toFixed(1)} s |`)
}
if (rows.length >= 2) {
  const [lo, hi] = [rows[0], rows[rows.length - 1]]
  const grow = (k: 'sap' | 'shotgun') => (lo[k].rounds && hi[k].rounds ? (hi[k].rounds! / lo[k].rounds!).toFixed(2) : '–')
  console.log(`\nrounds at ${hi.workers} / at ${lo.workers} workers: SAP ${grow('sap')}, Shotgun ${grow('shotgun')} (ideal P-fold speed-up: ${(lo.workers / hi.workers).toFixed(2)})`)
}
console.log(`total ${((performance.now() - t0) / 1000).toFixed(1)} s`)
