// Issue 6's attacks on the simulated grid, side by side with the clean run: accuracy, honest throughput, caught or not.
// npx tsx bench/attacks.ts [--setup mlp|mlp-long|mlr|all] [--only scale,flip,…] [--workers 16] [--attackers 3] [--seed 1]
import { parseArgs } from 'node:util'
import { ATTACKS, SETUPS, baselineOf, judge, runScenario, type AttackName, type Figures } from '../test/sim/hostile.ts'

const { values: a } = parseArgs({
  options: {
    setup: { type: 'string', default: 'all' },
    only: { type: 'string' },
    workers: { type: 'string', default: '16' },
    attackers: { type: 'string', default: '3' },
    seed: { type: 'string', default: '1' },
  },
})
const names = (a.only ? a.only.split(',') : Object.keys(ATTACKS)) as AttackName[]
const setups = a.setup === 'all' ? (Object.keys(SETUPS) as Array<keyof typeof SETUPS>) : [a.setup as keyof typeof SETUPS]

const pct = (x: number) => `${(100 * x).toFixed(1)}`
const secs = (ms: number | null) => (ms === null ? '—' : `${(ms / 1000).toFixed(1)} s`)

function row(cells: string[]): string {
  const widths = [19, 6, 7, 5, 9, 6, 7, 7, 9, 22, 10]
  return cells.map((c, i) => c.padEnd(widths[i] ?? 10)).join(' ')
}

function line(clean: Figures, f: Figures): string {
  const j = judge(clean, f)
  const caught = f.attackers.length ? `${f.attackers.filter((x) => x.caught).length}/${f.attackers.length}` : '—'
  const first = f.attackers.map((x) => x.afterMs).filter((x): x is number => x !== null)
  const by = [...new Set(f.attackers.map((x) => x.by).filter((x) => x))].join(',') || '—'
  return row([
    f.attack,
    pct(f.accuracy),
    f === clean ? '' : `${j.drop >= 0 ? '−' : '+'}${Math.abs(j.drop).toFixed(1)}`,
    f.finished ? 'yes' : 'NO',
    f.honestSamplesPerSecond.toFixed(0),
    f === clean ? '1.00' : j.throughput.toFixed(2),
    f.apiP99Ms.toFixed(0),
    caught,
    secs(first.length ? Math.max(...first) : null),
    by,
    String(f.falsePositives.length) + (f.honestErrors.length ? ` (${[...new Set(f.honestErrors.map((e) => e.split(': ')[1]))].join(',')} ×${f.honestErrors.length})` : ''),
  ])
}

const t0 = Date.now()
for (const s of setups) {
  const base = { attackers: Number(a.attackers), workers: Number(a.workers), seed: Number(a.seed), ...SETUPS[s] }
  const clean = {
    clean: await runScenario({ ...base, attack: null, deadlineMs: 120_000 }),
    'honest-only': await runScenario({ ...base, attack: null, honestOnly: true, deadlineMs: 120_000 }),
  }
  // an attacked run that has not finished by 4× the clean run's training time (at least 15 s) is cut off there
  const deadlineMs = Math.max(15_000, 4000 * clean.clean.seconds)
  console.log(`\n${clean.clean.model}: ${base.workers} workers, ${base.attackers} attackers (slots 0, 5, 10), seed ${base.seed}, ${JSON.stringify(SETUPS[s].hyper)}`)
  console.log('Attacks by sessions compare with "clean" (every slot honest), raw-socket attacks with "clean, honest only" (no session in the attacker slots).')
  console.log(row(['attack', 'acc %', 'Δ pts', 'done', 'honest/s', 'ratio', 'p99 ms', 'caught', 'to catch', 'by', 'false pos (honest errors)']))
  console.log(line(clean.clean, clean.clean))
  console.log(line(clean['honest-only'], clean['honest-only']))
  for (const n of names) {
    const f = await runScenario({ ...base, attack: n, deadlineMs })
    console.log(line(clean[baselineOf(n)], f))
    const notes = [...new Set(f.attackers.map((x) => x.note).filter((x) => x))]
    const d = f.defence as { quarantines?: number; rejected?: Record<string, number>; recent?: Array<{ reason: string }> } | null
    if (d && (d.quarantines || Object.keys(d.rejected ?? {}).length)) notes.push(`job view: ${d.quarantines ?? 0} quarantined, rejected ${JSON.stringify(d.rejected ?? {})}${d.recent?.[0] ? `, e.g. "${d.recent[0].reason.slice(0, 100)}"` : ''}`)
    if (f.warnings) notes.push(`${f.warnings} worker warnings`)
    console.log(`  ${ATTACKS[n].what}${notes.length ? `: ${notes.join(' | ')}` : ''}`)
  }
  // the same clean run again: how far this machine's load moved the figures meanwhile
  const again = await runScenario({ ...base, attack: null, deadlineMs: 120_000 })
  console.log(line(clean.clean, { ...again, attack: 'clean, again' }))
}
console.log(`\n${((Date.now() - t0) / 1000).toFixed(0)} s in all`)
process.exit(0)
