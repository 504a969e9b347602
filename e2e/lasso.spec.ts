// Lasso on three volunteer tabs (one on the WGSL kernel, two on the CPU): it converges to the sequential coordinate
// descent's objective, every tab works on its own column blocks, and the console shows the job and serves β.
import type { Page } from '@playwright/test'
import { readFileSync } from 'node:fs'
import { pino } from 'pino'
import { correlatedData } from '../apps/lasso/data.ts'
import { objective } from '../apps/lasso/objective.ts'
import { sequentialLasso } from '../apps/lasso/reference.ts'
import type { WorkerStatus } from '../client/train/status.ts'
import { startServer } from '../coordinator/server.ts'
import type { EdgeView } from '../protocol/job.ts'
import type { LassoDetail, LassoSummary } from '../protocol/lasso.ts'
import { expect, openTab, test } from './helpers.ts'

const N = 200
const P = 400
const BLOCK_COLUMNS = 100
/**
 * 4 blocks of 100 columns over 3 tabs. With n = 200, columns of different blocks still correlate at about ±1/√200 ≈
 * 0.07: SAP's default threshold for this n, 3/√200 ≈ 0.21, lets such pairs share a round and still holds a block's
 * own columns (correlated at 0.9) apart.
 */
const HYPER = { blockColumns: BLOCK_COLUMNS, minWorkers: 3 }

async function lassoStatus(page: Page): Promise<WorkerStatus> {
  await page.waitForFunction(() => 'tabgrid' in globalThis)
  return page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): WorkerStatus } }).tabgrid.status())
}

test('3 tabs (WebGPU + 2 CPU) solve a Lasso job to the sequential objective; the console shows it and serves β', async ({ browser }) => {
  const srv = await startServer({ port: 0, log: pino({ level: process.env.E2E_LOG ?? 'warn' }) })
  let watch: ReturnType<typeof setInterval> | undefined
  try {
    const created = await fetch(`${srv.url}/api/jobs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${srv.operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ app: 'lasso', data: `correlated:${N}x${P}`, hyper: HYPER }),
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as LassoSummary
    const detail = async () => (await (await fetch(`${srv.url}/api/jobs/${id}`)).json()) as LassoDetail & { edge: EdgeView }
    // the engines the workers said they run, seen in process while they are members (a finished tab hangs up)
    const job = srv.store.lasso.get(id)!
    const engines = new Map<string, string>()
    watch = setInterval(() => {
      for (const m of job.members.values()) if (m.ready) engines.set(m.id, m.engine)
    }, 20)

    const url = `${srv.url}/?job=${id}`
    const started = Date.now()
    const tabs = await Promise.all([openTab(browser, url), openTab(browser, `${url}&engine=cpu`), openTab(browser, `${url}&engine=cpu`)])
    await expect(tabs[0].page.locator('#engine')).toHaveText('WebGPU (asked for by ?engine=webgpu)')
    await expect.poll(async () => (await detail()).state, { timeout: 90_000, intervals: [250] }).toBe('done')
    clearInterval(watch)
    console.log(`lasso ${N}×${P} on 3 tabs: done ${((Date.now() - started) / 1000).toFixed(1)} s after the tabs opened`)

    const d = await detail()
    expect(d.stop).toBe('converged')
    expect(d.blocks.count).toBe(P / BLOCK_COLUMNS)
    expect([...engines.values()].sort()).toEqual(['cpu', 'cpu', 'webgpu'])
    // no result was refused or failed its checks, the WGSL one's included
    expect(d.defence.rejected).toEqual({})
    expect(d.defence.quarantines).toBe(0)
    // within 1e-4 of cyclic coordinate descent run to a 1e-12 relative decrease, on the data 'correlated:200x400' loads
    const data = correlatedData({ n: N, p: P })
    const reference = sequentialLasso(data, d.lambda, { tolerance: 1e-12, maxSweeps: 5000 })
    console.log(`ran ${(d.finishedAt! - d.startedAt!) / 1000} s; objective ${d.objective} (sequential ${reference.objective}), ${d.rounds} rounds, ${d.updates} updates, ${d.nonzeros} nonzeros`)
    expect(Math.abs(d.objective - reference.objective) / reference.objective).toBeLessThan(1e-4)

    for (const t of tabs) await expect.poll(async () => (await lassoStatus(t.page)).phase).toBe('done')
    const statuses = await Promise.all(tabs.map((t) => lassoStatus(t.page)))
    for (const s of statuses) {
      expect(s.app).toBe('lasso')
      expect(s.error).toBeUndefined()
      expect(s.lasso!.tasks).toBeGreaterThan(0)
      expect(s.lasso!.lambda).toBe(d.lambda)
    }
    // the blocks were spread over all three tabs: each held some, none held one twice, together all of them
    const held = statuses.map((s) => s.lasso!.blocks)
    for (const b of held) expect(b.length).toBeGreaterThan(0)
    expect(held.flat().sort((a, b) => a - b)).toEqual([0, 1, 2, 3])

    // the console: the job in the list as a Lasso job, its card with the objective, the curve and the β link
    const consolePage = await (await browser.newContext()).newPage()
    await consolePage.goto(`${srv.url}/console`)
    const row = consolePage.locator('nav.job-list tr', { hasText: id })
    await expect(row.locator('.app-lasso')).toHaveText('Lasso')
    const card = consolePage.locator(`section[data-job="${id}"]`)
    await expect(card.locator('.state-done')).toBeVisible()
    await expect(card.locator('td.objective')).toContainText(d.objective.toPrecision(7))
    await expect(card.locator('td.stop')).toHaveText('converged')
    // the held count falls to 0 as the finished tabs hang up: the card follows the coordinator's current figure
    await expect
      .poll(async () => {
        const [shown, now] = [await card.locator('td.blocks').textContent(), await detail()]
        return shown === `${now.blocks.held} / ${P / BLOCK_COLUMNS}`
      })
      .toBe(true)
    await expect(card.locator('.chart .uplot')).toBeVisible()
    await expect(card.locator('.chart .u-legend')).toContainText('objective')

    // β as CSV from the console's link: a header, a row per feature and the intercept, and it gives the objective
    const [download] = await Promise.all([consolePage.waitForEvent('download'), card.locator('a.beta-csv').click()])
    const lines = readFileSync((await download.path())!, 'utf8').trimEnd().split('\n')
    expect(lines).toHaveLength(P + 2)
    expect(lines[0]).toBe('feature,beta,beta_raw')
    expect(lines[P + 1]).toMatch(/^\(intercept\),0,/)
    const beta = lines.slice(1, P + 1).map((l) => Number(l.split(',')[1]))
    expect(beta.filter((b) => b !== 0)).toHaveLength(d.nonzeros)
    const recomputed = objective(data, beta, d.lambda)
    expect(Math.abs(recomputed - d.objective) / d.objective).toBeLessThan(1e-9)

    await Promise.all([...tabs.map((t) => t.close()), consolePage.context().close()])
  } finally {
    clearInterval(watch)
    await srv.close()
  }
})
