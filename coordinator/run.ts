// `tabgrid run`: a coordinator on a free port, N headless Chromium volunteer tabs, one job trained to the end.
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { maxAbsDiff, type MlrParams } from '../model/mlr.ts'
import type { CreateJob } from '../protocol/job.ts'
import { CHROMIUM_ARGS, CHROMIUM_MISSING, findChromium } from './browser.ts'
import { ensureClientBuilt } from './build-client.ts'
import type { JobCore } from './core/job.ts'
import { startServer } from './server.ts'

export interface RunOptions {
  job: Partial<CreateJob>
  workers: number
  timeoutSec: number
  progress(line: string): void
  verbose?: boolean
}

export interface RunResult {
  job: string
  dataset: string
  testAccuracy: number
  testLoss: number
  initialTestAccuracy: number
  epochs: number
  workers: number
  staleness: number
  batch: number
  lr: number
  maxObservedStaleness: number
  clocks: Record<string, number>
  engines: Record<string, string>
  wallSeconds: number
  trainSeconds: number
  samplesPerSecond: number
  bytes: { p2p: number; relay: number; coordinator: number }
  shards: { perEpoch: number; processed: number[] }
  /** Largest |w_tab − w_coordinator| over every parameter and every tab that finished: replicas agree to rounding. */
  replicaMaxDiff: number
}

export class RunError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

export async function runJob(o: RunOptions): Promise<RunResult> {
  const executablePath = findChromium()
  if (!executablePath) throw new RunError(CHROMIUM_MISSING, 2)
  const t0 = performance.now()
  await ensureClientBuilt(o.progress)
  const log: Logger = pino({ level: o.verbose ? 'info' : 'warn' }, pino.destination(2))
  const srv = await startServer({ port: 0, log })
  let browser: Browser | undefined
  try {
    const job = await srv.store.create({ ...o.job, hyper: { ...(o.job.hyper ?? {}), minWorkers: o.workers } as CreateJob['hyper'] })
    o.progress(
      `job ${job.id}: ${job.info.model} on ${job.info.dataset.name} (${job.info.dataset.train} train / ${job.info.dataset.test} test, ` +
        `${job.info.dims.J} features, ${job.info.dims.K} classes), ${o.workers} tabs, ${job.info.hyper.epochs} epochs, ` +
        `B=${job.info.hyper.batch}, s=${job.info.hyper.staleness}, lr=${job.info.hyper.lr}`,
    )
    browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true })
    const pages: Page[] = []
    for (let i = 0; i < o.workers; i++) {
      const page = await (await browser.newContext()).newPage()
      page.on('pageerror', (e) => o.progress(`tab ${i}: page error: ${e.message}`))
      if (o.verbose) page.on('console', (m) => o.progress(`tab ${i}: ${m.text()}`))
      await page.goto(`${srv.url}/?job=${job.id}`)
      pages.push(page)
    }
    await waitDone(job, o)
    const replicaMaxDiff = await compareReplicas(job, pages)
    const s = job.summary()
    const first = job.curve[0]
    const trainSeconds = ((job.finishedAt ?? Date.now()) - (job.startedAt ?? Date.now())) / 1000
    return {
      job: job.id,
      dataset: job.info.dataset.name,
      testAccuracy: s.testAccuracy ?? NaN,
      testLoss: s.testLoss ?? NaN,
      initialTestAccuracy: first?.testAccuracy ?? NaN,
      epochs: job.info.hyper.epochs,
      workers: o.workers,
      staleness: job.info.hyper.staleness,
      batch: job.info.hyper.batch,
      lr: job.info.hyper.lr,
      maxObservedStaleness: s.maxObservedStaleness,
      clocks: Object.fromEntries(job.clocksByWorker),
      engines: Object.fromEntries(job.enginesByWorker),
      wallSeconds: (performance.now() - t0) / 1000,
      trainSeconds,
      samplesPerSecond: trainSeconds > 0 ? job.samples / trainSeconds : 0,
      bytes: { ...job.bytes },
      shards: { perEpoch: job.info.shards.count, processed: job.ledger.report().map((e) => e.processed) },
      replicaMaxDiff,
    }
  } finally {
    await browser?.close().catch(() => undefined)
    await srv.close()
  }
}

async function waitDone(job: JobCore, o: RunOptions): Promise<void> {
  const deadline = Date.now() + o.timeoutSec * 1000
  let lastLine = 0
  while (job.state !== 'done') {
    if (job.state === 'failed') throw new RunError(`job ${job.id} failed`, 1)
    if (Date.now() > deadline) throw new RunError(`job ${job.id} did not finish within ${o.timeoutSec} s (state ${job.state}, ${job.ledger.processed}/${job.ledger.total} shards)`, 1)
    if (Date.now() - lastLine > 2000) {
      lastLine = Date.now()
      const s = job.summary()
      o.progress(
        `${s.state.padEnd(7)} workers ${s.workers}/${o.workers}  epoch ${s.epoch + 1}/${job.info.hyper.epochs}  shards ${s.shardsDone}/${s.shardsTotal}  ` +
          `clock ${s.minClock}–${s.maxClock}  test acc ${s.testAccuracy === null ? '–' : (100 * s.testAccuracy).toFixed(1) + '%'}  ${s.samplesPerSecond.toFixed(0)} samples/s`,
      )
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Reads each tab's model once it has caught up and compares it with the coordinator's replica. */
async function compareReplicas(job: JobCore, pages: Page[]): Promise<number> {
  let worst = 0
  for (const page of pages) {
    await page.waitForFunction(() => {
      const t = (globalThis as unknown as { tabgrid?: { status(): { phase: string } } }).tabgrid
      return t && ['done', 'left', 'error'].includes(t.status().phase)
    }, undefined, { timeout: 30_000 })
    worst = Math.max(worst, maxAbsDiff(job.replica.params, await readTabModel(page)))
  }
  return worst
}

/** The model a volunteer tab holds now (through the page's `tabgrid` debug handle). */
export async function readTabModel(page: Page): Promise<MlrParams> {
  const m = await page.evaluate(async () => {
    const t = (globalThis as unknown as { tabgrid: { readModel(): Promise<{ W: Float32Array; b: Float32Array }> } }).tabgrid
    const p = await t.readModel()
    return { W: Array.from(p.W), b: Array.from(p.b) }
  })
  return { W: Float32Array.from(m.W), b: Float32Array.from(m.b) }
}
