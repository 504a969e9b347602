// Scale bench (issue 8): one coordinator process, driven from a separate process of lightweight protocol clients
// (bench/scale/clients.ts) at N = 64, 256, 1,000, 2,000 workers each ticking at 2 clocks/s. Prints, per N, the
// clocks/s the grid keeps, the lag from a clock's last update to every worker hearing the min passed it (p50, p99),
// and the coordinator's CPU per clock, with its ratio to N (flat or falling: at most linear growth).
// Usage: npx tsx bench/scale/run.ts [--workers 64,256,1000,2000] [--seconds 15] [--rate 2] [--client-procs 1] [--prof DIR]
// --prof DIR: the coordinator writes a V8 CPU profile per N there (open it in Chrome's DevTools, Performance tab).
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`)
  return i > 0 ? process.argv[i + 1] : dflt
}
const SIZES = arg('workers', '64,256,1000,2000').split(',').map(Number)
const SECONDS = Number(arg('seconds', '15'))
const RATE = Number(arg('rate', '2'))
const PROF = arg('prof', '')
/** Client processes the workers are spread over (each one event loop). */
const PROCS = Number(arg('client-procs', '1'))
const TOKEN = 'scale-bench'
const TICKS = 100 // USER_HZ of /proc/PID/stat

/** A small classification set (8 features, 3 classes): the bench measures the coordinator, not the model. */
function writeData(dir: string): string {
  const file = join(dir, 'scale.csv')
  const rows: string[] = ['label,' + Array.from({ length: 8 }, (_, j) => `f${j}`).join(',')]
  let seed = 7
  const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31)
  for (let i = 0; i < 70_000; i++) {
    const k = i % 3
    rows.push([k, ...Array.from({ length: 8 }, (_, j) => (rand() + (j % 3 === k ? 1 : 0)).toFixed(3))].join(','))
  }
  writeFileSync(file, rows.join('\n'))
  return file
}

function cpuSeconds(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ')
  return (Number(f[11]) + Number(f[12])) / TICKS
}

async function startCoordinator(dataDir: string, port: number): Promise<ChildProcess> {
  const prof = PROF ? ['--cpu-prof', '--cpu-prof-dir', PROF] : []
  const p = spawn(process.execPath, [...prof, '--import', 'tsx', 'coordinator/cli.ts', 'serve', '--port', String(port), '--in-memory', '--no-default-job', '--max-per-address', '5000', '--data-root', dataDir], {
    env: { ...process.env, TABGRID_TOKEN: TOKEN, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  for (let i = 0; i < 100; i++) {
    await new Promise((r) => setTimeout(r, 200))
    if (await fetch(`http://127.0.0.1:${port}/api/jobs`).then((r) => r.ok, () => false)) return p
  }
  throw new Error('the coordinator did not start')
}

/** One client process's figures (clients.ts `done`), with the CPU seconds measured here. */
interface Done {
  workers: number
  joinSeconds: number
  seconds: number
  fromMin: number
  toMin: number
  updatesPerSecond: number
  clocks: Record<string, { sent: number; heard: number; n: number }>
  errors: Record<string, number>
  coordinatorCpu: number
  clientCpu: number
}

function pct(xs: number[], p: number): number {
  if (!xs.length) return NaN
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]
}

/**
 * The processes' figures as one grid's: a clock's lag runs from its last update sent (by any process) to the last of
 * all N workers hearing the min pass it; clocks/s counts the min's moves over the window every process measured.
 */
function merge(done: Done[], n: number) {
  const seconds = Math.max(...done.map((d) => d.seconds))
  const from = Math.max(...done.map((d) => d.fromMin))
  const to = Math.min(...done.map((d) => d.toMin))
  const lags: number[] = []
  for (let c = from; c < to; c++) {
    const per = done.map((d) => d.clocks[c])
    if (per.some((x) => !x) || per.reduce((t, x) => t + x.n, 0) !== n) continue
    lags.push(Math.max(...per.map((x) => x.heard)) - Math.max(...per.map((x) => x.sent)))
  }
  const errors: Record<string, number> = {}
  for (const d of done) for (const [k, v] of Object.entries(d.errors)) errors[k] = (errors[k] ?? 0) + v
  return {
    workers: n,
    joinSeconds: Math.max(...done.map((d) => d.joinSeconds)),
    clocksPerSecond: (to - from) / seconds,
    updatesPerSecond: done.reduce((t, d) => t + d.updatesPerSecond, 0),
    lagP50Ms: pct(lags, 0.5),
    lagP99Ms: pct(lags, 0.99),
    coordinatorCpu: done[0].coordinatorCpu / seconds,
    clientCpu: done[0].clientCpu / seconds,
    errors,
  }
}

async function one(n: number, csv: string, dataDir: string, port: number) {
  const coord = await startCoordinator(dataDir, port)
  try {
    const url = `http://127.0.0.1:${port}`
    const res = await fetch(`${url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `scale ${n}`, data: `csv:${csv}`, model: 'mlr', hyper: { batch: 4, shardSize: 16, epochs: 60, staleness: 1, verifyRate: 0, stallTimeoutMs: 30_000 } }),
    })
    const job = (await res.json()) as { id: string }
    if (!res.ok) throw new Error(`job: ${JSON.stringify(job)}`)
    // the workers spread over PROCS client processes (one event loop each), which all start measuring together
    const sizes = Array.from({ length: PROCS }, (_, k) => Math.floor((n * (k + 1)) / PROCS) - Math.floor((n * k) / PROCS)).filter((m) => m > 0)
    const procs = sizes.map((m) => spawn(process.execPath, ['--import', 'tsx', 'bench/scale/clients.ts', url, job.id, String(m), String(SECONDS), String(RATE)], { stdio: ['pipe', 'pipe', 'inherit'] }))
    let joined = 0
    let cpu0 = 0
    let clientCpu0 = 0
    const done: Done[] = []
    const clientCpu = () => procs.reduce((t, p) => t + cpuSeconds(p.pid!), 0)
    await Promise.all(
      procs.map(async (p) => {
        for await (const line of createInterface({ input: p.stdout! })) {
          const m = JSON.parse(line) as { event: string }
          if (m.event === 'joined' && ++joined === procs.length) for (const q of procs) q.stdin!.write('go\n')
          if (m.event === 'measuring' && !cpu0) {
            cpu0 = cpuSeconds(coord.pid!)
            clientCpu0 = clientCpu()
          }
          if (m.event === 'done') {
            const d = m as unknown as Done
            d.coordinatorCpu = cpuSeconds(coord.pid!) - cpu0
            d.clientCpu = clientCpu() - clientCpu0
            done.push(d)
          }
        }
      }),
    )
    if (done.length !== procs.length) throw new Error('the clients gave no figures')
    return merge(done, n)
  } finally {
    // a profiled coordinator writes its profile on a clean exit
    coord.kill(PROF ? 'SIGTERM' : 'SIGKILL')
    if (PROF) await new Promise((r) => coord.once('exit', r))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tabgrid-scale-'))
const csv = writeData(dir)
console.log(`scale bench: one coordinator process, N protocol clients in ${PROCS} other${PROCS > 1 ? 's' : ''}, each ticking at ${RATE} clocks/s (mlr on 8 features, B 4, s 1), ${SECONDS} s measured per N`)
console.log('workers  join s  clocks/s  of target  updates/s  lag p50 ms  lag p99 ms  coord CPU  CPU ms/clock  ÷N (µs)  ratio to first  clients CPU  errors')
let base = 0
for (const [i, n] of SIZES.entries()) {
  const r = await one(n, csv, dir, 18_400 + i)
  const perClock = (r.coordinatorCpu * 1000) / r.clocksPerSecond
  const perN = (perClock * 1000) / n
  if (!base) base = perN
  console.log(
    [
      String(n).padEnd(7),
      r.joinSeconds.toFixed(1).padStart(6),
      r.clocksPerSecond.toFixed(2).padStart(9),
      `×${(r.clocksPerSecond / RATE).toFixed(2)}`.padStart(10),
      r.updatesPerSecond.toFixed(0).padStart(10),
      r.lagP50Ms.toFixed(1).padStart(11),
      r.lagP99Ms.toFixed(1).padStart(11),
      `${(100 * r.coordinatorCpu).toFixed(0)} %`.padStart(10),
      perClock.toFixed(1).padStart(13),
      perN.toFixed(1).padStart(8),
      `×${(perN / base).toFixed(2)}`.padStart(15),
      `${(100 * r.clientCpu).toFixed(0)} %`.padStart(12),
      ` ${JSON.stringify(r.errors)}`,
    ].join(' '),
  )
}
