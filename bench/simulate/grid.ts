// Simulated grids of thousands of volunteers (issue 8): the real job core in virtual time, side by side per N, then a
// sweep over staleness, the slowest devices' share and the rows policy, with ratios to the default.
// Usage: npx tsx bench/simulate/grid.ts [--workers 1000,10000] [--seconds 300] [--staleness 2] [--seed 1]
//          [--sweep 1000 | --sweep 0] [--sweep-seconds 120] [--coordinator measured|µs] [--no-reports] [--hold 2] [--calm]
//          [--shard 256] [--stall-ms 30000] [--no-ahead]
//          (--no-reports, --hold, --calm, --shard, --stall-ms, --no-ahead: the per-N runs only; the sweep sets its own)
// Throughput is measured from when the min clock first reaches 2 (or half the run): the start waits for the first
// wave's slowest tab to fetch and evaluate its first shard.
import { teacherDataset } from './data.ts'
import { DEVICE_MIX, withSlowShare } from './population.ts'
import { PHASES, simulateGrid, type SimConfig, type SimReport } from './sim.ts'

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt
}
const SIZES = arg('workers', '1000,10000').split(',').map(Number)
const SECONDS = Number(arg('seconds', '300'))
const SWEEP_SECONDS = Number(arg('sweep-seconds', '120'))
const REPORTS = !process.argv.includes('--no-reports')
const AHEAD = !process.argv.includes('--no-ahead')
const HOLD = Number(arg('hold', '2'))
const CALM = process.argv.includes('--calm')
const SHARD = Number(arg('shard', '256'))
const STALL_MS = Number(arg('stall-ms', '30000'))
const STALENESS = Number(arg('staleness', '2'))
const SEED = Number(arg('seed', '1'))
const SWEEP = Number(arg('sweep', String(SIZES[0])))
const coord = arg('coordinator', 'measured')
const COORDINATOR: SimConfig['coordinatorUs'] = coord === 'measured' ? 'measured' : Number(coord)

const t0 = performance.now()
const data = teacherDataset(800_000, 5000)
console.log(`data: ${data.name}, ${data.train.n} train / ${data.test.n} test samples (${((performance.now() - t0) / 1000).toFixed(1)} s to make); model mlr`)
console.log(
  `devices: ${DEVICE_MIX.map((c) => `${c.name} ${Math.round(c.share * 100)} % (${c.clockSeconds} s/clock at B 32, σ ${c.sigma})`).join(', ')}; ` +
    'RTT 20–300 ms, uplink 1–50 Mbit/s (log-uniform), a pause per tab every 10 min (median 8 s, log-normal σ 1), sessions of 20 min on average',
)

const pc = (x: number, d = 1) => `${(100 * x).toFixed(d)} %`
const n0 = (x: number) => Math.round(x).toLocaleString('en-US')
const f = (x: number, d = 2) => x.toFixed(d)

function run(n: number, over: Partial<SimConfig> = {}): SimReport {
  return simulateGrid({ workers: n, seconds: SECONDS, staleness: STALENESS, seed: SEED, data, coordinatorUs: COORDINATOR, ...over })
}
const main: Partial<SimConfig> = {
  shardSize: SHARD,
  hyper: { stallTimeoutMs: STALL_MS, holdClocks: HOLD },
  reports: REPORTS,
  leaseAhead: AHEAD,
  ...(CALM ? { behaviour: { pausesPerHour: 0, sessionMeanS: 0 } } : {}),
}

function waits(r: SimReport): string {
  return PHASES.map((p) => `${p} ${pc(r.breakdown[p], 0)}`).join(', ')
}

// ── per N, side by side ──────────────────────────────────────────────────────────────────────────────────────
const reports = SIZES.map((n) => {
  const r = run(n, main)
  console.log(`  ${n} workers: ${f(r.wallSeconds, 1)} s wall for ${r.virtualSeconds} virtual s`)
  return r
})
const col = (name: string, fn: (r: SimReport) => string) => Object.fromEntries([['', name], ...reports.map((r) => [`${r.workers} workers`, fn(r)])])
console.log(`\n${REPORTS ? 'rows by speed (1 to 4 B, B 32)' : 'rows at B 32 for every device (no speed reports)'}, hold ${HOLD} clocks${AHEAD ? ', leases ahead' : ', no lease ahead'}${CALM ? ', no pauses or churn' : ''}, shard ${SHARD}, stall timeout ${STALL_MS / 1000} s, s ${STALENESS}, seed ${SEED}, coordinator cost ${COORDINATOR === 'measured' ? 'as measured here' : `${COORDINATOR} µs per call`}`)
console.table([
  col('virtual s / wall s', (r) => `${f(r.virtualSeconds, 0)} / ${f(r.wallSeconds, 1)}`),
  col('measured from (virtual s)', (r) => f(r.windowFrom, 1)),
  col('wall s in JobCore / in steps', (r) => `${f(r.wallCoordinator, 1)} / ${f(r.wallSteps, 1)}`),
  col('workers live / joined / left', (r) => `${n0(r.live)} / ${n0(r.joined)} / ${n0(r.left)}`),
  col('evicted (the tab stops)', (r) => Object.entries(r.evicted).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'),
  col('min clock (max)', (r) => `${r.minClock} (${r.maxClock})`),
  col('clocks/s, updates/s', (r) => `${f(r.clocksPerSecond, 3)}, ${n0(r.updatesPerSecond)}`),
  col('samples/s actual', (r) => n0(r.samplesPerSecond)),
  col('samples/s ideal', (r) => n0(r.idealPerSecond)),
  col('fraction of ideal', (r) => pc(r.fraction)),
  col('SSP ceiling at B rows for all N·r_min / Σr', (r) => pc(r.sspCeiling)),
  col('clock length aimed at (ms)', (r) => (r.clockMs === null ? '–' : f(r.clockMs, 0))),
  col('probations, re-based', (r) => `${n0(r.probations)}, ${n0(r.rebased)}`),
  col('time: compute', (r) => pc(r.breakdown.compute)),
  col('time: SSP bound (slower peers)', (r) => pc(r.breakdown.bound)),
  col('time: clock view in flight', (r) => pc(r.breakdown.latency)),
  col('time: acks, shard-done, lease, fetch', (r) => pc(r.breakdown.protocol)),
  col('time: no lease', (r) => pc(r.breakdown.idle)),
  col('time: tab paused', (r) => pc(r.breakdown.pause)),
  col('min moved by: slow device', (r) => pc(Object.entries(r.heldBy).filter(([k]) => k.startsWith('device')).reduce((a, [, v]) => a + v, 0))),
  col('  of which phone / software', (r) => pc(r.heldBy['device: phone / software'] ?? 0)),
  col('min moved by: paused tab', (r) => pc(r.heldBy['paused tab'] ?? 0)),
  col('min moved by: probation', (r) => pc(r.heldBy.probation ?? 0)),
  col('min moved by: stall eviction', (r) => pc(r.heldBy['stall eviction'] ?? 0)),
  col('min moved by: departure, other', (r) => pc(Object.entries(r.heldBy).filter(([k]) => !k.startsWith('device') && !['paused tab', 'stall eviction', 'probation'].includes(k)).reduce((a, [, v]) => a + v, 0))),
  col('JobCore µs/update mean, p50, p99, max', (r) => `${f(r.coordinator.usPerUpdate, 0)}, ${f(r.coordinator.usPerUpdateP50, 0)}, ${f(r.coordinator.usPerUpdateP99, 0)}, ${f(r.coordinator.usPerUpdateMax, 0)}`),
  col('JobCore µs/call: tick, lease, leave', (r) => ['tick', 'lease', 'leave'].map((k) => f(r.coordinator.other[k]?.us ?? 0, 0)).join(', ')),
  col('coordinator cores (JobCore only)', (r) => f(r.coordinator.cores, 3)),
  col('coordinator queue ms mean, p99', (r) => `${f(r.coordinator.queueMsMean, 2)}, ${f(r.coordinator.queueMsP99, 2)}`),
  col('rejected (by code), s-violations', (r) => `${Object.entries(r.rejected).map(([k, v]) => `${k} ${v}`).join(', ') || 0}; ${r.sspViolations}`),
  col('re-computed (skipped, failed)', (r) => `${r.verifier.checked} (${r.verifier.skipped}, ${r.verifier.failed})`),
])
console.log('test accuracy (min clock) over virtual time')
const times = reports[0].curve.map((p) => p.t)
console.table(times.map((t, i) => Object.fromEntries([['t (s)', f(t, 0)], ...reports.map((r) => [`${r.workers} workers`, r.curve[i] ? `${pc(r.curve[i].accuracy)} (${r.curve[i].minClock})` : '']) ])))

// ── the sweep ────────────────────────────────────────────────────────────────────────────────────────────────
if (SWEEP > 0) {
  console.log(
    `\nsweep at ${SWEEP} workers, ${SWEEP_SECONDS} virtual s: what rows by speed and the hold each give (before: B rows for ` +
      'every device, no hold), then staleness, the slowest class\'s share and the shard size; calm: no pauses, no churn',
  )
  const rows: Array<Record<string, string>> = []
  let base: SimReport | undefined
  const cases: Array<{ label: string; s: number; slow: number; over: Partial<SimConfig> }> = []
  const before = { reports: false, leaseAhead: false, hyper: { holdClocks: 0 } }
  const calm = { pausesPerHour: 0, sessionMeanS: 0 }
  cases.push({ label: 'before: B rows, no hold', s: 2, slow: 0.25, over: before })
  cases.push({ label: 'B rows, hold 2', s: 2, slow: 0.25, over: { reports: false } })
  cases.push({ label: 'rows by speed, no hold', s: 2, slow: 0.25, over: { hyper: { holdClocks: 0 } } })
  cases.push({ label: 'rows by speed, hold 2, no lease ahead', s: 2, slow: 0.25, over: { leaseAhead: false } })
  for (const s of [0, 2, 3, 10]) cases.push({ label: 'rows by speed, hold 2', s, slow: 0.25, over: {} })
  for (const slow of [0.05, 0]) cases.push({ label: 'rows by speed, hold 2', s: 2, slow, over: {} })
  cases.push({ label: 'rows by speed, hold 1', s: 2, slow: 0.25, over: { hyper: { holdClocks: 1 } } })
  cases.push({ label: 'rows by speed, hold 4', s: 2, slow: 0.25, over: { hyper: { holdClocks: 4 } } })
  cases.push({ label: 'rows by speed, hold 2, shard 1024', s: 2, slow: 0.25, over: { shardSize: 1024 } })
  cases.push({ label: 'before, calm', s: 2, slow: 0.25, over: { ...before, behaviour: calm } })
  cases.push({ label: 'rows by speed, hold 2, calm', s: 2, slow: 0.25, over: { behaviour: calm } })
  for (const c of cases) {
    const r = run(SWEEP, { seconds: SWEEP_SECONDS, staleness: c.s, mix: withSlowShare(DEVICE_MIX, c.slow), ...c.over })
    base ??= r
    const last = r.curve[r.curve.length - 1]
    rows.push({
      rows: c.label,
      s: String(c.s),
      'slow share': pc(c.slow, 0),
      fraction: pc(r.fraction),
      'samples/s': n0(r.samplesPerSecond),
      '× first': f(r.samplesPerSecond / base.samplesPerSecond),
      'clocks/s': f(r.clocksPerSecond, 2),
      'updates/s': n0(r.updatesPerSecond),
      'bound %': pc(r.breakdown.bound, 0),
      'view %': pc(r.breakdown.latency, 0),
      'protocol %': pc(r.breakdown.protocol, 0),
      'pause %': pc(r.breakdown.pause, 0),
      'acc end': last ? pc(last.accuracy) : '',
      from: f(r.windowFrom, 0),
      'wall s': f(r.wallSeconds, 1),
    })
    console.log(`  ${c.label} s ${c.s} slow ${pc(c.slow, 0)}: ${pc(r.fraction)} (${waits(r)})`)
  }
  console.table(rows)
}
console.log(`total wall ${((performance.now() - t0) / 1000).toFixed(0)} s`)
