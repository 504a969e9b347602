// Everything the end-to-end specs share: an in-process coordinator, volunteer tabs, polling on job state.
import { expect, type Browser, type Page } from '@playwright/test'
import { pino } from 'pino'
import type { JobCore } from '../coordinator/core/job.ts'
import { readTabModel } from '../coordinator/run.ts'
import { startServer, type RunningServer } from '../coordinator/server.ts'
import { maxAbsDiff } from '../model/params.ts'
import type { CreateJob, Hyper } from '../protocol/job.ts'

export { expect, test } from '@playwright/test'

export interface Grid {
  srv: RunningServer
  job: JobCore
  url: string
  close(): Promise<void>
}

/**
 * A small MLP for browser tests: at B=8 on three tabs its 784→64 kernel travels as factors over WebRTC, its biases
 * and output kernel through the parameter server, and SwiftShader trains it in seconds.
 */
export const E2E_MLP = { model: 'mlp:64', trainLimit: 3000, hyper: { batch: 8, lr: 0.1, lrSchedule: 'cosine' } } as const

/** A coordinator on a free port with one job; the client pages must be built (npm run test:e2e does). */
export async function startGrid(hyper: Partial<Hyper>, spec: Partial<CreateJob> = {}): Promise<Grid> {
  const srv = await startServer({ port: 0, log: pino({ level: process.env.E2E_LOG ?? 'warn' }) })
  const job = await srv.store.create({ data: 'builtin', ...spec, hyper: hyper as Hyper })
  return { srv, job, url: `${srv.url}/?job=${job.id}`, close: () => srv.close() }
}

export interface Tab {
  page: Page
  close(): Promise<void>
}

/**
 * Opens a volunteer tab in its own browser context (its own origin storage, its own WebRTC stack). It runs the WGSL
 * kernels (`engine=webgpu`) unless `engine: 'auto'`: on SwiftShader the page would pick the CPU engine by itself.
 */
export async function openTab(browser: Browser, url: string, opts: { noWebGpu?: boolean; engine?: 'auto' } = {}): Promise<Tab> {
  if (!opts.noWebGpu && opts.engine !== 'auto' && !/[?&]engine=/.test(url)) url += `${url.includes('?') ? '&' : '?'}engine=webgpu`
  const ctx = await browser.newContext()
  const page = await ctx.newPage()
  if (opts.noWebGpu) await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined }))
  page.on('pageerror', (e) => console.error(`[tab] page error: ${e.message}`))
  if (process.env.E2E_LOG) page.on('console', (m) => console.error(`[tab] ${m.text()}`))
  await page.goto(url)
  return { page, close: () => ctx.close() }
}

export interface TabStatus {
  phase: string
  workerId: string
  clock: number
  samples: number
  firstLoss: number | null
  lastLoss: number | null
  peers: Record<string, string>
  bytes: { p2pSent: number; p2pReceived: number; relayReceived: number; psReceived: number; coordinatorSent: number }
  paths: Record<string, string>
  applied: number
  aggregates: number
}

export async function status(page: Page): Promise<TabStatus> {
  await page.waitForFunction(() => 'tabgrid' in globalThis)
  return page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): TabStatus } }).tabgrid.status())
}

export async function waitDone(job: JobCore, timeoutMs = 200_000): Promise<void> {
  await expect.poll(() => job.state, { timeout: timeoutMs, intervals: [500] }).toBe('done')
}

/** Largest |tab − coordinator| over all parameters, once the tab has caught up. */
export async function replicaDiff(job: JobCore, page: Page): Promise<number> {
  await expect.poll(async () => (await status(page)).phase, { timeout: 30_000 }).toBe('done')
  return maxAbsDiff(job.replica.params, await readTabModel(page))
}

/** The newest test accuracy, once the evaluation of the final model is in. */
export async function lastAccuracy(job: JobCore): Promise<number> {
  await job.settled()
  return job.curve.last?.testAccuracy ?? 0
}
