// The volunteer page as a person uses it: the throttle slows the tab down, Pause hands its work back and Resume takes
// work again, what the tab gave is counted, and the job's end is a thank-you, not an error; a tab with no job waits.
import type { Page } from '@playwright/test'
import type { WorkerStatus } from '../client/train/status.ts'
import type { Hyper, JobDetail } from '../protocol/job.ts'
import { expect, openTab, startGrid, test } from './helpers.ts'

/** The tab's own status (`window.tabgrid.status()`): phase, samples, duty, paused. */
async function status(page: Page): Promise<WorkerStatus> {
  await page.waitForFunction(() => 'tabgrid' in globalThis)
  return page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): WorkerStatus } }).tabgrid.status())
}

/** The tab's samples per second over `ms`, from its own counter (the page's `window.tabgrid.status()`). */
async function rate(page: Page, ms: number): Promise<number> {
  const a = await status(page)
  const t0 = Date.now()
  await page.waitForTimeout(ms)
  const b = await status(page)
  return (b.samples - a.samples) / ((Date.now() - t0) / 1000)
}

test('the volunteer page: throttle, pause and resume, what the tab gave, a thank-you at the end, and a wait for the next job', async ({ browser }) => {
  test.setTimeout(120_000)
  // One tab on the CPU engine, on a job it is the bottleneck of: a small MLP at B=256 (a step is its compute, some
  // 25 ms, and socket round trips hide behind a staleness of 10; no re-computation on the coordinator). A throttled
  // tab rests after each step, so its samples/s follows the duty only where it computes most of the time: at B=8 on a
  // loaded 2-core machine it waits on the coordinator as long as it computes, and its rests hide in those waits.
  const grid = await startGrid(
    { batch: 256, shardSize: 1000, staleness: 10, verifyRate: 0, epochs: 1000, minWorkers: 1, lr: 0.05 },
    { model: 'mlp:64', trainLimit: 3000 },
  )
  const { srv, job } = grid
  const detail = async (): Promise<JobDetail> => (await fetch(`${srv.url}/api/jobs/${job.id}`)).json() as Promise<JobDetail>
  try {
    // the bare URL: the tab joins whichever job takes workers, and stays a volunteer after it
    const tab = await openTab(browser, `${srv.url}/?engine=cpu`)
    const { page } = tab
    const state = page.locator('#state')
    await expect(state).toHaveAttribute('data-state', 'training', { timeout: 60_000 })
    await expect(page.locator('#phase')).toHaveText('training')
    await expect(page.locator('#device')).toContainText('CPU engine')
    await expect(page.locator('#engine')).toHaveText('CPU (asked for by ?engine=cpu)')
    // warm-up: the engine built, the first shards fetched, the JIT warm
    await expect.poll(async () => (await status(page)).samples, { timeout: 30_000 }).toBeGreaterThan(5000)
    await page.waitForTimeout(2000)

    // (a) the throttle, as a user sets it: 100 %, 25 %, 50 %, 100 % again, each measured over several seconds
    const duty = async (label: string, d: number) => {
      await page.getByRole('radio', { name: label }).check()
      await expect.poll(async () => (await status(page)).duty).toBe(d)
      await page.waitForTimeout(1000) // the step under way ends with the rest of the old duty
    }
    const full1 = await rate(page, 4000)
    await duty('25 %', 0.25)
    expect(await page.evaluate(() => localStorage.getItem('tabgrid.duty'))).toBe('0.25')
    const quarter = await rate(page, 4000)
    await duty('50 %', 0.5)
    const half = await rate(page, 4000)
    await duty('100 %', 1)
    const full2 = await rate(page, 4000)
    const full = (full1 + full2) / 2
    console.log(
      `samples/s: 100 % ${full1.toFixed(0)} then ${full2.toFixed(0)} · 50 % ${half.toFixed(0)} (${(half / full).toFixed(2)} of full) · 25 % ${quarter.toFixed(0)} (${(quarter / full).toFixed(2)})`,
    )
    expect(full).toBeGreaterThan(500)
    expect(quarter / full).toBeGreaterThan(0.1)
    expect(quarter / full).toBeLessThan(0.45)
    expect(half / full).toBeGreaterThan(quarter / full)
    expect(half / full).toBeLessThan(0.8)

    // (b) Pause: the tab stops, says so, and the coordinator sees it paused, holding no shard; Resume: it goes on
    const me = (await status(page)).workerId
    await page.getByRole('button', { name: 'Pause' }).click()
    await expect(state).toHaveAttribute('data-state', 'paused')
    await expect(state).toContainText('Paused (by you)')
    await expect(page.getByRole('button', { name: 'Resume' })).toBeVisible()
    await expect.poll(async () => (await status(page)).phase).toBe('paused')
    await expect.poll(async () => (await detail()).workersList.find((w) => w.id === me)).toMatchObject({ paused: true, leases: [] })
    const held = (await status(page)).samples
    await page.waitForTimeout(2000)
    expect((await status(page)).samples).toBe(held)
    // Resume from the keyboard, as someone who does not use a mouse would
    await page.getByRole('button', { name: 'Resume' }).press('Enter')
    await expect(state).toHaveAttribute('data-state', 'training')
    await expect.poll(async () => (await status(page)).samples, { timeout: 15_000 }).toBeGreaterThan(held)
    await expect.poll(async () => (await detail()).workersList.find((w) => w.id === me)?.paused).toBe(false)

    // what the tab gave: its samples, time and share of the job; the job's accuracy drawn in the chart
    await expect.poll(async () => Number((await page.locator('#gave-work').textContent())!.replace(/\D/g, ''))).toBeGreaterThan(1000)
    await expect(page.locator('#gave-share')).toContainText('% of the job’s')
    await expect(page.locator('#gave-total')).toContainText('samples')
    await expect(page.locator('#chart canvas')).toHaveCount(1)
    await expect(page.locator('#chart-summary')).toContainText('Test accuracy')

    if (process.env.TABGRID_SCREENSHOTS === '1') {
      await page.waitForTimeout(2500) // a few more evaluations in the chart
      await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur()) // no focus ring from the Resume above
      await page.setViewportSize({ width: 1280, height: 900 })
      await page.screenshot({ path: 'docs/volunteer-desktop.png' })
      await page.setViewportSize({ width: 390, height: 844 })
      await page.waitForTimeout(300)
      await page.screenshot({ path: 'docs/volunteer-phone.png' })
    }
    // no horizontal scroll at a phone's width
    await page.setViewportSize({ width: 390, height: 844 })
    await expect.poll(() => page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)

    // (c) the operator cancels the job: a thank-you, no error; the bare-URL tab then waits for the next job
    const cancel = await fetch(`${srv.url}/api/jobs/${job.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${srv.operatorToken}` } })
    expect(cancel.status).toBe(200)
    await expect(page.locator('#notice')).toContainText('cancelled by its operator — thank you')
    await expect(state).toHaveAttribute('data-state', /cancelled|waiting-for-job/)
    await expect(state).toHaveAttribute('data-state', 'waiting-for-job', { timeout: 20_000 })
    await expect(state).toContainText('waiting for the next one')
    await expect(page.locator('#phase')).not.toHaveText('error')
    await expect(page.locator('.error')).toHaveCount(0)
    // the totals outlive the job
    await expect(page.locator('#gave-total')).toContainText('on 1 job')

    // the pause carries over to the next session: paused while it waits, the tab joins the next job paused
    await page.getByRole('button', { name: 'Pause' }).click()
    const next = await srv.store.create({ data: 'builtin', model: 'mlr', trainLimit: 3000, hyper: { batch: 8, epochs: 1000, minWorkers: 1 } as Hyper })
    await expect.poll(async () => (await status(page)).job?.id, { timeout: 20_000 }).toBe(next.id)
    await expect.poll(async () => (await status(page)).phase).toBe('paused')
    await expect(state).toHaveAttribute('data-state', 'paused')
    const nextDetail = async () => (await (await fetch(`${srv.url}/api/jobs/${next.id}`)).json()) as JobDetail
    await expect.poll(async () => (await nextDetail()).workersList[0]).toMatchObject({ paused: true, leases: [] })
    // the throttle from the keyboard (the arrow keys move through the radio group); after a reload it holds, the
    // pause does not
    await page.getByRole('radio', { name: '100 %' }).focus()
    await page.keyboard.press('ArrowLeft')
    await expect(page.getByRole('radio', { name: '50 %' })).toBeChecked()
    await page.reload()
    await expect(state).toHaveAttribute('data-state', 'training', { timeout: 20_000 })
    await expect(page.getByRole('radio', { name: '50 %' })).toBeChecked()
    await expect(page.getByRole('button', { name: 'Pause' })).toBeVisible()
    expect((await status(page)).duty).toBe(0.5)
    await expect(state).toContainText('50 % of the time')
    await fetch(`${srv.url}/api/jobs/${next.id}/cancel`, { method: 'POST', headers: { authorization: `Bearer ${srv.operatorToken}` } })
    await expect(state).toHaveAttribute('data-state', 'waiting-for-job', { timeout: 20_000 })
    await expect(page.locator('.error')).toHaveCount(0)
    await expect(page.locator('#phase')).toHaveText('waiting-for-job')

    // a fresh tab on the bare URL with no job running: it waits, without an error
    const other = await openTab(browser, `${srv.url}/?engine=cpu`)
    await expect(other.page.locator('#state')).toHaveAttribute('data-state', 'waiting-for-job', { timeout: 20_000 })
    await expect(other.page.locator('#state')).toContainText('No job is running right now')
    await expect(other.page.locator('#phase')).toHaveText('waiting-for-job')
    await expect(other.page.locator('.error')).toHaveCount(0)
    await Promise.all([tab.close(), other.close()])
  } finally {
    await grid.close()
  }
})
