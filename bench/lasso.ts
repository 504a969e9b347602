// Issue 9's scheduling benchmark: rounds of parallel Lasso coordinate descent to the sequential optimum, STRADS' SAP vs
// Shotgun, at 4 and 8 workers, on blocks of correlated features. Prints figures, asserts nothing.
// npx tsx bench/lasso.ts [--n 2000] [--p 10000] [--lambda-frac 0.1] [--seed 1] [--workers 4,8] [--max-rounds 200000]
//                        [--block 10] [--correlation 0.9] [--oversample 3] [--threshold 0.1] [--eta 1e-4]
// The default size (2000 × 10000) takes about 20 s on a 2-core machine: data 1 s, reference 3 s, each run 2–5 s.
import { parseArgs } from 'node:util'
import { correlatedData } from '../apps/lasso/data.ts'
import { lambdaMax, nonzeros } from '../apps/lasso/objective.ts'
import { sequentialLasso } from '../apps/lasso/reference.ts'
import { runRounds, type RoundResult } from '../apps/lasso/rounds.ts'
import { makeScheduler, type SchedulerKind } from '../apps/lasso/scheduler.ts'

const { values: a } = parseArgs({
  options: {
    n: { type: 'string', default: '2000' },
    p: { type: 'string', default: '10000' },
    'lambda-frac': { type: 'string', default: '0.1' },
    seed: { type: 'string', default: '1' },
    workers: { type: 'string', default: '4,8' },
    'max-rounds': { type: 'string', default: '200000' },
    block: { type: 'string', default: '10' },
    correlation: { type: 'string', default: '0.9' },
    oversample: { type: 'string' },
    threshold: { type: 'string' },
    eta: { type: 'string' },
  },
})
const seed = Number(a.seed)
const maxRounds = Number(a['max-rounds'])
const workerCounts = a.workers.split(',').map(Number)
const kinds: SchedulerKind[] = ['sap', 'shotgun']
const schedulerOpts = {
  seed,
  ...(a.oversample === undefined ? {} : { oversample: Number(a.oversample) }),
  ...(a.threshold === undefined ? {} : { threshold: Number(a.threshold) }),
  ...(a.eta === undefined ? {} : { eta: Number(a.eta) }),
}
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`
const t0 = performance.now()

const d = correlatedData({
  n: Number(a.n),
  p: Number(a.p),
  blockSize: Number(a.block),
  correlation: Number(a.correlation),
  seed,
})
const lambda = Number(a['lambda-frac']) * lambdaMax(d)
const tData = performance.now()
const ref = sequentialLasso(d, lambda)
const tRef = performance.now()
const target = ref.objective * (1 + 1e-4)
const λ = `λ = ${a['lambda-frac']}·λmax = ${lambda.toPrecision(4)}`
console.log(`${d.name}: blocks of ${a.block} columns at correlation ${a.correlation}, ${λ}, seed ${seed}`)
console.log(
  `data ${secs(tData - t0)}; sequential reference: objective ${ref.objective.toPrecision(8)}, ` +
    `${ref.nonzeros} nonzeros, ${ref.sweeps} sweeps (${ref.sweeps * d.p} coordinate updates), ${secs(tRef - tData)}`,
)
console.log(
  `target: objective ≤ reference·(1 + 1e-4) = ${target.toPrecision(8)}; rounds capped at ${maxRounds}; ` +
    `scheduler options ${JSON.stringify(schedulerOpts)}`,
)

const runs = new Map<string, RoundResult>()
const row = (cells: string[]) => cells.map((c, i) => c.padEnd([8, 10, 16, 12, 10, 14, 9][i] ?? 10)).join(' ')
const roundsOf = (r: RoundResult | undefined) => (r?.reached ? r.rounds : null)
const ratio = (x: number | null, y: number | null) => (x === null || y === null ? '—' : (x / y).toFixed(2))

console.log()
console.log(row(['workers', 'scheduler', 'rounds to target', 'updates', 'stop', 'final rel gap', 'time']))
for (const workers of workerCounts) {
  for (const kind of kinds) {
    const t = performance.now()
    const scheduler = makeScheduler(kind, d, schedulerOpts)
    const run = runRounds(d, lambda, scheduler, { workers, maxRounds, target, historyEvery: 100 })
    runs.set(`${kind}/${workers}`, run)
    const gap = (run.objective - ref.objective) / ref.objective
    const reached = run.reached ? String(run.rounds) : `not reached (${run.rounds})`
    const time = secs(performance.now() - t)
    console.log(row([String(workers), kind, reached, String(run.updates), run.stop, gap.toExponential(2), time]))
  }
}

console.log()
console.log('Shotgun/SAP rounds to target (above 1: SAP needs fewer rounds)')
for (const w of workerCounts) {
  console.log(`  ${w} workers: ${ratio(roundsOf(runs.get(`shotgun/${w}`)), roundsOf(runs.get(`sap/${w}`)))}`)
}
if (workerCounts.length > 1) {
  const [w0, w1] = [workerCounts[0], workerCounts[workerCounts.length - 1]]
  console.log(`Rounds at ${w1} workers / rounds at ${w0} (ideal scaling: ${(w0 / w1).toFixed(2)})`)
  for (const kind of kinds) {
    console.log(`  ${kind}: ${ratio(roundsOf(runs.get(`${kind}/${w1}`)), roundsOf(runs.get(`${kind}/${w0}`)))}`)
  }
}
const support = [...runs].map(([k, r]) => `${k} ${nonzeros(r.beta)}`).join(', ')
console.log(`\nβ nonzeros: reference ${ref.nonzeros}, ${support}`)
console.log(`wall time ${secs(performance.now() - t0)}`)
