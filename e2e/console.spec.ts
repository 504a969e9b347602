// The operator console as an operator drives it: nothing without the token, sign-in, a job made from an uploaded
// CSV, two tabs joining on its page, pause / resume with the clocks held, the ledger's proof, downloads that load in
// TF.js, a second job cancelled and a Lasso job made from the form; with screenshots of a running job's page for docs/.
import * as tf from '@tensorflow/tfjs'
import type { Page } from '@playwright/test'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { mulberry32 } from '../model/random.ts'
import { startServer } from '../coordinator/server.ts'
import type { JobDetail } from '../protocol/job.ts'
import { expect, openTab, status, test, type Tab } from './helpers.ts'

const TOKEN = 'console-e2e-token'
/** 2,000 rows (1,667 to train on) in 3 epochs at B = 2: long enough on two CPU tabs to pause it mid-way. */
const ROWS = 2000
const BATCH = 2
const EPOCHS = 3
const SHARD = 50

/** `n` rows of `label,x1..x4` with a header: the label is the largest of x1, x2, x3 (x4 is noise). */
function ruleCsv(n: number, seed: number): { text: string; rows: number[][]; labels: number[] } {
  const rand = mulberry32(seed)
  const rows: number[][] = []
  const labels: number[] = []
  for (let i = 0; i < n; i++) {
    const x = [0, 0, 0, 0].map(() => Number((4 * rand() - 2).toFixed(3)))
    rows.push(x)
    labels.push(x.slice(0, 3).indexOf(Math.max(x[0], x[1], x[2])))
  }
  const text = ['label,x1,x2,x3,x4', ...rows.map((x, i) => [labels[i], ...x].join(','))].join('\n') + '\n'
  return { text, rows, labels }
}

/** A download a link on the page starts, as text or bytes. */
async function download(page: Page, selector: string): Promise<Buffer> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.locator(selector).click()])
  return readFileSync((await d.path())!)
}

/** The signed-in console, in its own context, at a viewport size. */
async function signIn(page: Page, url: string): Promise<void> {
  await page.goto(`${url}/console`)
  await page.getByLabel('Operator token').fill(TOKEN)
  await page.getByRole('button', { name: 'Sign in' }).click()
  await expect(page.getByRole('button', { name: 'Sign out' })).toBeVisible()
}

test('the console: sign-in, a job from an upload, pause and resume, downloads that load in TF.js, cancel', async ({ browser }) => {
  test.setTimeout(180_000)
  const started = Date.now()
  const lap = (what: string) => console.log(`${((Date.now() - started) / 1000).toFixed(1)} s: ${what}`)
  const dir = mkdtempSync(join(tmpdir(), 'tabgrid-e2e-console-'))
  const srv = await startServer({ port: 0, operatorToken: TOKEN, log: pino({ level: process.env.E2E_LOG ?? 'warn' }) })
  const tabs: Tab[] = []
  try {
    const url = srv.url
    const api = async <T>(path: string): Promise<T> => (await (await fetch(`${url}${path}`)).json()) as T
    const post = (path: string, token?: string, body?: string) =>
      fetch(`${url}${path}`, { method: 'POST', headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), 'content-type': 'application/json' }, body })

    // (a) without the token: every operator call is refused, and the console shows no controls at all
    const anyJob = await srv.store.create({ data: 'builtin', model: 'mlr', trainLimit: 200, hyper: { minWorkers: 1 } as never })
    for (const path of ['/api/jobs', `/api/jobs/${anyJob.id}/pause`, `/api/jobs/${anyJob.id}/resume`, `/api/jobs/${anyJob.id}/cancel`, '/api/uploads?name=a.csv']) {
      for (const token of [undefined, 'wrong']) {
        const res = await post(path, token, '{}')
        expect(res.status, `${path} with ${token ?? 'no token'}`).toBe(401)
        expect(((await res.json()) as { code: string }).code).toBe('ERR_UNAUTHORIZED')
      }
    }
    expect((await fetch(`${url}/api/operator`)).status).toBe(401)
    expect((await fetch(`${url}/api/data`)).status).toBe(401)
    expect(await api<{ state: string }>(`/api/jobs/${anyJob.id}`)).toMatchObject({ state: 'pending' })

    const con = await (await browser.newContext({ viewport: { width: 1280, height: 900 } })).newPage()
    con.on('pageerror', (e) => console.error(`[console] page error: ${e.message}`))
    await con.goto(`${url}/console`)
    await expect(con.locator(`section[data-job="${anyJob.id}"]`)).toBeVisible()
    await expect(con.locator('form.sign-in')).toBeVisible()
    await expect(con.locator('details.create, .controls, button.control')).toHaveCount(0)
    await con.goto(`${url}/console#job=${anyJob.id}`)
    await expect(con.locator(`section.job-page[data-job="${anyJob.id}"]`)).toBeVisible()
    await expect(con.locator('.controls, button.control')).toHaveCount(0)
    // a wrong token in the form is refused, in words and with the code, and not kept
    await con.getByLabel('Operator token').fill('not-the-token')
    await con.getByRole('button', { name: 'Sign in' }).click()
    await expect(con.locator('.auth-message')).toContainText('ERR_UNAUTHORIZED')
    expect(await con.evaluate(() => sessionStorage.length + localStorage.length)).toBe(0)
    await expect(con.locator('.controls')).toHaveCount(0)

    // signed in: the token lives in sessionStorage only, never in the URL; the controls appear
    await con.getByLabel('Operator token').fill(TOKEN)
    await con.getByRole('button', { name: 'Sign in' }).click()
    await expect(con.getByRole('button', { name: 'Sign out' })).toBeVisible()
    expect(await con.evaluate(() => [Object.values(sessionStorage), localStorage.length])).toEqual([[TOKEN], 0])
    expect(con.url()).not.toContain(TOKEN)
    await expect(con.locator(`section.job-page[data-job="${anyJob.id}"] button.control-pause`)).toBeVisible()
    // cancelling a job: a dismissed confirmation leaves it be
    con.once('dialog', (d) => void d.dismiss())
    await con.getByRole('button', { name: 'Cancel' }).click()
    await con.waitForTimeout(300)
    expect(anyJob.state).toBe('pending')
    lap('refusals and sign-in checked')

    // (b) a job from the form, on a CSV uploaded through it
    const csv = ruleCsv(ROWS, 7)
    const file = join(dir, 'rule.csv')
    writeFileSync(file, csv.text)
    await con.getByRole('link', { name: '← All jobs' }).click()
    await con.locator('details.create > summary').click()
    const form = con.locator('form.create-job')
    await expect(form.getByText(/Upload limit: 256\.0 MiB per file/)).toBeAttached()
    await form.getByRole('radio', { name: 'upload files' }).check()
    await form.getByLabel('Files to upload').setInputFiles(file)
    await form.getByLabel('Name', { exact: true }).fill('rule from the console')
    await form.getByLabel('Preset', { exact: true }).fill('mlr')
    await expect(form.getByLabel('learning rate η₀')).toHaveValue('0.5') // HyperSchema's default
    await form.getByLabel('batch size B').fill(String(BATCH))
    await form.getByLabel('epochs', { exact: true }).fill(String(EPOCHS))
    await form.getByLabel('shard size (samples)').fill(String(SHARD))
    await form.getByLabel('staleness s', { exact: true }).fill('1')
    await form.getByLabel('workers to start').first().fill('2')
    // a refusal is shown in words with its code: a bad preset is caught before anything is sent
    await form.getByLabel('Preset', { exact: true }).fill('mlp:0')
    await form.getByRole('button', { name: 'Create job' }).click()
    await expect(con.locator('#create-message')).toContainText('ERR_BAD_MODEL')
    await form.getByLabel('Preset', { exact: true }).fill('mlr')
    // a field out of range is named before anything is sent
    await form.getByText('Advanced hyperparameters').first().click()
    const advanced = form.getByLabel('Other hyperparameters (JSON; these are the defaults)').first()
    const defaults = await advanced.inputValue()
    await advanced.fill(defaults.replace(/"clip": 20/, '"clip": 1'))
    await form.getByRole('button', { name: 'Create job' }).click()
    await expect(con.locator('#create-message')).toContainText('hyper.clip')
    await advanced.fill(defaults)
    // and the coordinator's own refusal, with its code: a convolutional preset for rows of 4 numbers
    await form.getByLabel('Preset', { exact: true }).fill('cnn')
    await form.getByRole('button', { name: 'Create job' }).click()
    await expect(con.locator('#create-message')).toContainText('Not created: ERR_BAD_MODEL')
    expect(srv.store.all()).toHaveLength(1)
    await form.getByLabel('Preset', { exact: true }).fill('mlr')
    await form.getByRole('button', { name: 'Create job' }).click()
    await con.waitForURL(/#job=/)
    const id = decodeURIComponent(/#job=(.+)$/.exec(con.url())![1])
    const job = srv.store.get(id)!
    expect(job.data.source).toMatch(/^csv:.*\/rule\.csv$/)
    expect(job.info.hyper).toMatchObject({ batch: BATCH, epochs: EPOCHS, shardSize: SHARD, staleness: 1, minWorkers: 2, lr: 0.5 })
    const pageSection = con.locator(`section.job-page[data-job="${id}"]`)
    await expect(pageSection.locator('.job-heading')).toContainText('rule from the console')
    lap(`job ${id} created from the upload`)

    // (c) two volunteer tabs join; the job page shows them, the samples rise and the curve gets points
    const detail = () => api<JobDetail>(`/api/jobs/${id}`)
    tabs.push(...(await Promise.all([0, 1].map(() => openTab(browser, `${url}/?job=${id}&engine=cpu`)))))
    const workers = con.locator('.block-workers tbody tr:not(.departed)')
    await expect(workers).toHaveCount(2)
    const samples = async () => Number((await pageSection.locator('td.samples').textContent())!.replace(/,/g, ''))
    await expect.poll(samples, { intervals: [200] }).toBeGreaterThan(0)
    const before = await samples()
    await expect.poll(samples, { intervals: [200] }).toBeGreaterThan(before)
    await expect(con.locator('.block-accuracy .chart .uplot')).toBeVisible()
    await expect.poll(async () => (await detail()).curve.length, { intervals: [200] }).toBeGreaterThan(1)
    lap('two tabs joined and training')

    // (d) Pause: once it settles, no worker's clock moves for 2 s; the page says who paused it
    await pageSection.getByRole('button', { name: 'Pause' }).click()
    await expect(pageSection.locator('.state-paused')).toBeVisible()
    await expect(pageSection.locator('.reason')).toHaveText('(paused by the operator)')
    const clocks = async () => JSON.stringify((await detail()).clocks)
    let last = ''
    await expect
      .poll(async () => {
        const now = await clocks()
        const still = now === last
        last = now
        return still
      }, { intervals: [400], timeout: 15_000 })
      .toBe(true)
    const held = await clocks()
    expect(Object.keys(JSON.parse(held) as object).length).toBe(2)
    await con.waitForTimeout(2000)
    expect(await clocks()).toBe(held)
    expect((await detail()).state).toBe('paused')
    // the volunteers' pages say who paused it, as a wait, not an error
    for (const t of tabs) await expect(t.page.locator('#state')).toHaveAttribute('data-state', 'operator-paused')
    lap(`paused, clocks held at ${held} (the job takes ${Math.ceil((ROWS * 5) / 6 / BATCH) * EPOCHS} clocks of all workers together)`)

    // the screenshots for docs/: this job's page at a desktop's and a phone's width (no sideways page scroll there)
    await pageSection.getByRole('button', { name: 'Resume' }).click()
    await expect(pageSection.locator('.state-running')).toBeVisible()
    // (e) Resume: the clocks move again
    await expect.poll(clocks, { intervals: [200] }).not.toBe(held)
    await con.evaluate(() => (document.activeElement as HTMLElement | null)?.blur())
    await con.mouse.move(1, 1)
    await con.waitForTimeout(1500) // a second of the curve after the pause's dip
    // written only when asked (TABGRID_SCREENSHOTS=1): a test run leaves the tracked docs/ as they are
    const shots = process.env.TABGRID_SCREENSHOTS === '1'
    if (shots) await con.screenshot({ path: 'docs/console-desktop.png' })
    const phone = await (await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 1 })).newPage()
    await signIn(phone, url)
    await phone.goto(`${url}/console#job=${id}`)
    await expect(phone.locator('.block-accuracy .chart .uplot')).toBeVisible()
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390)
    if (shots) await phone.screenshot({ path: 'docs/console-phone.png' })
    await phone.context().close()
    lap('resumed; screenshots taken')

    // the job completes; the ledger proves every shard once per epoch, on the API and on the page
    await expect.poll(async () => (await detail()).state, { timeout: 60_000, intervals: [250] }).toBe('done')
    await job.settled()
    const done = await detail()
    expect(done.ledger).toHaveLength(EPOCHS)
    for (const e of done.ledger) expect(e).toMatchObject({ processed: e.shards, missing: [] })
    await expect(con.locator('.block-ledger td.proof.ok')).toHaveCount(EPOCHS)
    // the finished tabs hung up: the workers table keeps them, greyed, with what they gave
    await expect(con.locator('.block-workers tr.departed')).toHaveCount(2)
    const gave = done.departed.reduce((s, d) => s + d.samples, 0)
    expect(gave).toBe(done.samples)
    lap(`done: ${done.samples} samples, accuracy ${done.curve.at(-1)!.testAccuracy}`)

    // (g) the model from the job page's links, loaded in TF.js: it predicts as the coordinator's accuracy says
    const modelJson = JSON.parse(String(await download(con, `section.job-page a.model-json`))) as tf.io.ModelJSON
    const weights = await download(con, `section.job-page a.weights-bin`)
    const model = await tf.loadLayersModel({
      load: () => tf.io.getModelArtifactsForJSON(modelJson, async (m) => [m.flatMap((g) => g.weights), new Uint8Array(weights).buffer]),
    })
    const final = done.curve.at(-1)!
    expect(final.samples).toBe(job.data.test.n)
    const accuracyOf = (x: Float32Array, y: ArrayLike<number>, n: number) =>
      tf.tidy(() => {
        const predicted = (model.predict(tf.tensor2d(x, [n, 4])) as tf.Tensor).argMax(1).dataSync()
        let right = 0
        for (let i = 0; i < n; i++) if (predicted[i] === y[i]) right++
        return right / n
      })
    // on the coordinator's own test split: the very accuracy of its final evaluation
    const test = job.data.test
    expect(Math.abs(accuracyOf(test.x, test.y, test.n) - final.testAccuracy)).toBeLessThanOrEqual(1 / test.n)
    // on new rows of the same rule, scaled as the model's metadata says: about as good
    const meta = (model.getUserDefinedMetadata() as { tabgrid: { preprocessing: { kind: string; mean: number[]; scale: number[] }; labels: string[] } }).tabgrid
    expect(meta.preprocessing.kind).toBe('standardised')
    const fresh = ruleCsv(400, 99)
    const x = Float32Array.from(fresh.rows.flatMap((r) => r.map((v, j) => (v - meta.preprocessing.mean[j]) * meta.preprocessing.scale[j])))
    const y = fresh.labels.map((l) => meta.labels.indexOf(String(l)))
    const freshAccuracy = accuracyOf(x, y, fresh.rows.length)
    console.log(`TF.js: ${freshAccuracy} on fresh rows; the coordinator's final test accuracy ${final.testAccuracy}`)
    expect(final.testAccuracy).toBeGreaterThan(0.8)
    expect(Math.abs(freshAccuracy - final.testAccuracy)).toBeLessThan(0.1)
    model.dispose()

    // (h) the curve as CSV from the page: a header, then a row per evaluation
    const lines = String(await download(con, 'section.job-page a.curve-csv')).trimEnd().split('\n')
    expect(lines[0]).toBe('t_ms,seconds,clock,test_samples,test_accuracy,test_loss')
    expect(lines).toHaveLength(done.curve.length + 1)
    const rows = lines.slice(1).map((l) => l.split(',').map(Number))
    rows.forEach((r, i) => expect([r[0], r[2], r[3], r[4]]).toEqual([done.curve[i].t, done.curve[i].clock, done.curve[i].samples, done.curve[i].testAccuracy]))
    for (let i = 1; i < rows.length; i++) expect(rows[i][2]).toBeGreaterThanOrEqual(rows[i - 1][2])
    lap('downloads checked')

    // (f) a second job, on the uploaded file now listed on the server, cancelled from the console
    await Promise.all(tabs.splice(0).map((t) => t.close()))
    await con.getByRole('link', { name: '← All jobs' }).click()
    await form.getByRole('radio', { name: 'a file on the server' }).check()
    await form.getByLabel('File on the server', { exact: true }).selectOption(job.data.source)
    await form.getByLabel('Name', { exact: true }).fill('to be cancelled')
    await form.getByLabel('epochs', { exact: true }).fill('500')
    await form.getByLabel('workers to start').first().fill('1')
    await form.getByRole('button', { name: 'Create job' }).click()
    await con.waitForURL((u) => u.hash.startsWith('#job=') && !u.hash.endsWith(id))
    const id2 = decodeURIComponent(/#job=(.+)$/.exec(con.url())![1])
    const tab = await openTab(browser, `${url}/?job=${id2}&engine=cpu`)
    tabs.push(tab)
    const second = con.locator(`section.job-page[data-job="${id2}"]`)
    await expect(second.locator('.state-running')).toBeVisible()
    await expect.poll(async () => (await status(tab.page)).clock, { intervals: [200] }).toBeGreaterThan(0)
    con.once('dialog', (d) => void d.accept())
    await second.getByRole('button', { name: 'Cancel' }).click()
    await expect(second.locator('.state-failed')).toBeVisible()
    await expect(second.locator('.reason')).toHaveText('(cancelled by the operator)')
    await expect(second.locator('button.control:visible')).toHaveCount(0)
    expect(await api<JobDetail>(`/api/jobs/${id2}`)).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
    await expect.poll(async () => (await status(tab.page)).phase, { timeout: 15_000 }).toBe('done')
    expect((await status(tab.page)) as unknown).toMatchObject({ jobReason: 'cancelled by the operator' })
    await expect(tab.page.locator('body')).toContainText(/cancelled/i)
    // an ended job takes no more controls
    const closed = await post(`/api/jobs/${id2}/resume`, TOKEN)
    expect(closed.status).toBe(409)
    expect(((await closed.json()) as { code: string }).code).toBe('ERR_JOB_CLOSED')

    // a Lasso job from the same form, on a built-in regression set: its page is a Lasso page, and it cancels alike
    await con.getByRole('link', { name: '← All jobs' }).click()
    await form.getByRole('radio', { name: 'Lasso (coordinate descent)' }).check()
    await form.getByRole('radio', { name: 'built-in' }).check()
    await form.getByLabel('Built-in data set', { exact: true }).selectOption('correlated:500x2000')
    await form.getByLabel('Name', { exact: true }).fill('lasso from the console')
    await form.getByLabel('columns per block').fill('250')
    await form.getByLabel('scheduler').selectOption('shotgun')
    await form.getByRole('button', { name: 'Create job' }).click()
    await con.waitForURL((u) => u.hash.startsWith('#job=') && !u.hash.endsWith(id) && !u.hash.endsWith(id2))
    const id3 = decodeURIComponent(/#job=(.+)$/.exec(con.url())![1])
    const lasso = srv.store.lasso.get(id3)!
    expect(lasso.info).toMatchObject({ name: 'lasso from the console', dataset: { n: 500, p: 2000 }, hyper: { blockColumns: 250, scheduler: 'shotgun' } })
    const third = con.locator(`section.job-page[data-job="${id3}"]`)
    await expect(third.locator('.app-lasso')).toHaveText('Lasso')
    con.once('dialog', (d) => void d.accept())
    await third.getByRole('button', { name: 'Cancel' }).click()
    await expect(third.locator('.state-failed')).toBeVisible()
    expect(lasso.summary()).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })

    // signing out takes the controls away again
    await con.getByRole('button', { name: 'Sign out' }).click()
    await expect(con.locator('form.sign-in')).toBeVisible()
    await expect(con.locator('.controls')).toHaveCount(0)
    expect(await con.evaluate(() => sessionStorage.length)).toBe(0)
    lap('second job cancelled')
    await con.context().close()
  } finally {
    await Promise.all(tabs.map((t) => t.close()))
    await srv.close()
    rmSync(dir, { recursive: true, force: true })
  }
})
