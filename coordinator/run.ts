// `tabgrid run`: a coordinator on a free port, N headless Chromium volunteer tabs, one job trained to the end.
import { chromium, type Browser, type Page } from 'playwright-core'
import type { Logger } from 'pino'
import { pino } from 'pino'
import { maxAbsDiff } from '../model/params.ts'
import type { CreateJob, EngineAsk } from '../protocol/job.ts'
import type { ClockTime } from '../protocol/messages.ts'
import type { TensorBytes } from './core/traffic.ts'
import { saveTfjsModel } from './export-files.ts'
import { exportMetadata } from './http.ts'
import { CHROMIUM_ARGS, CHROMIUM_MISSING, findChromium } from './browser.ts'
import { ensureClientBuilt } from './build-client.ts'
import type { JobCore } from './core/job.ts'
import { startServer, type RunningServer } from './server.ts'

export interface RunOptions {
  job: Partial<CreateJob>
  workers: number
  timeoutSec: number
  progress(line: string): void
  verbose?: boolean
  /** Write the trained model here in the TF.js Layers format (model.json + weights.bin). */
  save?: string
  /** The tabs' engine: auto (default: WebGPU, or the CPU kernels on a software adapter), WebGPU, or the CPU kernels. */
  engine?: EngineAsk
}

export interface RunResult {
  job: string
  dataset: string
  model: string
  params: number
  /** The final model's test accuracy and loss. */
  testAccuracy: number
  testLoss: number
  /** The best test accuracy any evaluation during the run saw. */
  bestTestAccuracy: number
  initialTestAccuracy: number
  epochs: number
  workers: number
  staleness: number
  batch: number
  lr: number
  lrSchedule: string
  maxObservedStaleness: number
  clocks: Record<string, number>
  engines: Record<string, string>
  /** Per tab, where a clock went on average (ms): engine, send, apply, wait, other. */
  clockTime: Array<{ clocks: number; engine: number; send: number; apply: number; wait: number; other: number }>
  wallSeconds: number
  trainSeconds: number
  samplesPerSecond: number
  bytes: { p2p: number; relay: number; coordinator: number; tensors: TensorBytes[] }
  /** Every decision of Poseidon's rule during the run: the workers it saw and the path per tensor. */
  paths: Array<{ clock: number; workers: number; paths: Record<string, string> }>
  shards: { perEpoch: number; processed: number[] }
  /** Where --save wrote the model, if it did. */
  saved?: { modelJson: string; weights: string }
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

/**
 * What every `run` needs: Chromium found, the client built, a coordinator on a free port; `fn` makes the job and
 * launches the browser when it is ready for tabs. The browser and the coordinator are closed after, whatever happened.
 */
export async function withCoordinator<T>(o: Pick<RunOptions, 'verbose' | 'progress'>, fn: (srv: RunningServer, launch: () => Promise<Browser>) => Promise<T>): Promise<T> {
  const executablePath = findChromium()
  if (!executablePath) throw new RunError(CHROMIUM_MISSING, 2)
  await ensureClientBuilt(o.progress)
  const log: Logger = pino({ level: o.verbose ? 'info' : 'warn' }, pino.destination(2))
  const srv = await startServer({ port: 0, log })
  let browser: Browser | undefined
  try {
    return await fn(srv, async () => (browser = await chromium.launch({ executablePath, args: CHROMIUM_ARGS, headless: true })))
  } finally {
    await browser?.close().catch(() => undefined)
    await srv.close()
  }
}

export async function runJob(o: RunOptions): Promise<RunResult> {
  const t0 = performance.now()
  return withCoordinator(o, async (srv, launch) => {
    const job = await srv.store.create({ ...o.job, hyper: { ...(o.job.hyper ?? {}), minWorkers: o.workers } as CreateJob['hyper'] })
    const { hyper, dataset } = job.info
    o.progress(
      `job ${job.id}: ${job.plan.name} (${job.plan.size} parameters) on ${dataset.name} (${dataset.train} train / ${dataset.test} test, ` +
        `${dataset.features} features, ${dataset.classes} classes), ${o.workers} tabs, ${hyper.epochs} epochs, ` +
        `B=${hyper.batch}, s=${hyper.staleness}, lr=${hyper.lr} (${hyper.lrSchedule})`,
    )
    const pages = await openTabs(await launch(), `${srv.url}/?job=${job.id}`, o)
    await waitDone(
      job,
      o,
      () => {
        const s = job.summary()
        return (
          `${s.state.padEnd(7)} workers ${s.workers}/${o.workers}  epoch ${s.epoch + 1}/${job.info.hyper.epochs}  shards ${s.shardsDone}/${s.shardsTotal}  ` +
          `clock ${s.minClock}–${s.maxClock}  test acc ${s.testAccuracy === null ? '–' : (100 * s.testAccuracy).toFixed(1) + '%'}  ${s.samplesPerSecond.toFixed(0)} samples/s`
        )
      },
      () => `${job.ledger.processed}/${job.ledger.total} shards`,
    )
    await job.settled()
    const replicaMaxDiff = await compareReplicas(job, pages)
    const clockTime = await Promise.all(pages.map(readClockTime))
    const s = job.summary()
    const first = job.curve.points[0]
    const saved = o.save ? await saveTfjsModel(o.save, job.plan, job.replica.params, exportMetadata(job)) : undefined
    const trainSeconds = ((job.finishedAt ?? Date.now()) - (job.startedAt ?? Date.now())) / 1000
    return {
      job: job.id,
      dataset: job.info.dataset.name,
      model: job.plan.name,
      params: job.plan.size,
      testAccuracy: s.testAccuracy ?? NaN,
      testLoss: s.testLoss ?? NaN,
      bestTestAccuracy: s.bestTestAccuracy ?? NaN,
      initialTestAccuracy: first?.testAccuracy ?? NaN,
      epochs: job.info.hyper.epochs,
      workers: o.workers,
      staleness: job.info.hyper.staleness,
      batch: job.info.hyper.batch,
      lr: job.info.hyper.lr,
      lrSchedule: job.info.hyper.lrSchedule,
      maxObservedStaleness: s.maxObservedStaleness,
      clocks: Object.fromEntries(job.clocksByWorker),
      engines: Object.fromEntries(job.enginesByWorker),
      clockTime,
      wallSeconds: (performance.now() - t0) / 1000,
      trainSeconds,
      samplesPerSecond: trainSeconds > 0 ? job.samples / trainSeconds : 0,
      bytes: { ...job.traffic.totals(), tensors: job.traffic.tensors(job.comm.paths) },
      paths: job.comm.history.map((d) => ({ clock: d.clock, workers: d.workers, paths: Object.fromEntries(job.plan.tensors.map((t) => [t.name, d.paths[t.index]])) })),
      shards: { perEpoch: job.info.shards.count, processed: job.ledger.report().map((e) => e.processed) },
      replicaMaxDiff,
      ...(saved ? { saved } : {}),
    }
  })
}

/** `o.workers` volunteer tabs on `url`, each in its own browser context (its own worker), with `o.engine`. */
export async function openTabs(browser: Browser, url: string, o: Pick<RunOptions, 'workers' | 'engine' | 'verbose' | 'progress'>): Promise<Page[]> {
  const pages: Page[] = []
  for (let i = 0; i < o.workers; i++) {
    const page = await (await browser.newContext()).newPage()
    page.on('pageerror', (e) => o.progress(`tab ${i}: page error: ${e.message}`))
    if (o.verbose) page.on('console', (m) => o.progress(`tab ${i}: ${m.text()}`))
    await page.goto(`${url}${o.engine && o.engine !== 'auto' ? `&engine=${o.engine}` : ''}`)
    pages.push(page)
  }
  return pages
}

/**
 * Polls the job until it is done, with a progress line every 2 s; a RunError when it fails or the timeout passes
 * (`where`: how far it got, for that message).
 */
export async function waitDone(job: { id: string; state: string }, o: Pick<RunOptions, 'timeoutSec' | 'progress'>, line: () => string, where: () => string): Promise<void> {
  const deadline = Date.now() + o.timeoutSec * 1000
  let lastLine = 0
  while (job.state !== 'done') {
    if (job.state === 'failed') throw new RunError(`job ${job.id} failed`, 1)
    if (Date.now() > deadline) throw new RunError(`job ${job.id} did not finish within ${o.timeoutSec} s (state ${job.state}, ${where()})`, 1)
    if (Date.now() - lastLine > 2000) {
      lastLine = Date.now()
      o.progress(line())
    }
    await new Promise((r) => setTimeout(r, 200))
  }
}

/** Waits until the tab's worker has ended (done, left or failed). */
export async function tabEnded(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const t = (globalThis as unknown as { tabgrid?: { status(): { phase: string } } }).tabgrid
    return t && ['done', 'left', 'error'].includes(t.status().phase)
  }, undefined, { timeout: 30_000 })
}

/** Reads each tab's model once it has caught up and compares it with the coordinator's replica. */
async function compareReplicas(job: JobCore, pages: Page[]): Promise<number> {
  let worst = 0
  for (const page of pages) {
    await tabEnded(page)
    worst = Math.max(worst, maxAbsDiff(job.replica.params, await readTabModel(page)))
  }
  return worst
}

/** A tab's time accounting as ms per clock. */
async function readClockTime(page: Page): Promise<RunResult['clockTime'][number]> {
  const t = await page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): { time: ClockTime } } }).tabgrid.status().time)
  const per = (ms: number) => +(ms / Math.max(1, t.clocks)).toFixed(3)
  return { clocks: t.clocks, engine: per(t.engineMs), send: per(t.sendMs), apply: per(t.applyMs), wait: per(t.waitMs), other: per(t.otherMs) }
}

/** The model (the whole arena) a volunteer tab holds now, through the page's `tabgrid` debug handle. */
export async function readTabModel(page: Page): Promise<Float32Array> {
  const b64 = await page.evaluate(async () => {
    const t = (globalThis as unknown as { tabgrid: { readModel(): Promise<Float32Array> } }).tabgrid
    const a = await t.readModel()
    const bytes = new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
    let s = ''
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000))
    return btoa(s)
  })
  const buf = Buffer.from(b64, 'base64')
  const out = new Float32Array(buf.byteLength / 4)
  new Uint8Array(out.buffer).set(buf)
  return out
}
