// Scale bench (issue 8): one coordinator process, driven from a separate process of lightweight protocol clients
// (bench/scale/clients.ts) at N = 64, 256, 1,000, 2,000 workers each ticking at 2 clocks/s. Prints, per N, the
// clocks/s the grid keeps, the lag from a clock's last update to every worker hearing the min passed it (p50, p99),
// and the coordinator's CPU per clock, with its ratio to N (flat or falling: at most linear growth).
// Usage: npx tsx bench/scale/run.ts [--workers 64,256,1000,2000] [--seconds 15] [--rate 2] [--prof DIR]
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
    const clients = spawn(process.execPath, ['--import', 'tsx', 'bench/scale/clients.ts', url, job.id, String(n), String(SECONDS), String(RATE)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let cpu0 = 0
    let clientCpu0 = 0
    let result: Record<string, unknown> | undefined
    for await (const line of createInterface({ input: clients.stdout! })) {
      const m = JSON.parse(line) as { event: string }
      if (m.event === 'measuring') {
        cpu0 = cpuSeconds(coord.pid!)
        clientCpu0 = cpuSeconds(clients.pid!)
      }
      if (m.event === 'done') {
        const cpu = cpuSeconds(coord.pid!) - cpu0
        const seconds = (m as unknown as { seconds: number }).seconds
        result = { ...m, coordinatorCpu: cpu / seconds, clientCpu: (cpuSeconds(clients.pid!) - clientCpu0) / seconds }
      }
    }
    if (!result) throw new Error('the clients gave no figures')
    return result as { workers: number; clocksPerSecond: number; lagP50Ms: number; lagP99Ms: number; coordinatorCpu: number; clientCpu: number; clocks: number; updatesPerSecond: number; errors: Record<string, number>; joinSeconds: number }
  } finally {
    // a profiled coordinator writes its profile on a clean exit
    coord.kill(PROF ? 'SIGTERM' : 'SIGKILL')
    if (PROF) await new Promise((r) => coord.once('exit', r))
  }
}

const dir = mkdtempSync(join(tmpdir(), 'tabgrid-scale-'))
const csv = writeData(dir)
console.log(`scale bench: one coordinator process, N protocol clients in another, each ticking at ${RATE} clocks/s (mlr on 8 features, B 4, s 1), ${SECONDS} s measured per N`)
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
