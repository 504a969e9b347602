// The coordinator dies mid-epoch (SIGKILL) under 3 training tabs and is started again on the same data directory: the
// tabs rejoin, the job completes with every shard once per epoch, every tab ends with the coordinator's model, and the
// accuracy is that of an uninterrupted run.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readTabModel } from '../coordinator/run.ts'
import { maxAbsDiff } from '../model/params.ts'
import type { JobDetail, JobSummary } from '../protocol/job.ts'
import { expect, openTab, status, test, type Tab } from './helpers.ts'

const JOB_FLAGS = ['--model', 'mlr', '--epochs', '2', '--batch', '16', '--train-limit', '3000', '--shard-size', '100', '--min-workers', '3', '--staleness', '1']

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** `tabgrid serve` as its own process; resolves once its API answers. */
async function serve(port: number, dataDir: string | null): Promise<{ proc: ChildProcess; url: string; log: string[] }> {
  const args = ['bin/tabgrid.js', 'serve', '--port', String(port), ...(dataDir ? ['--data-dir', dataDir] : ['--in-memory']), ...JOB_FLAGS]
  const proc = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  const log: string[] = []
  proc.stdout!.on('data', (d) => log.push(String(d)))
  proc.stderr!.on('data', (d) => log.push(String(d)))
  const url = `http://127.0.0.1:${port}`
  await expect
    .poll(async () => (await fetch(`${url}/api/health`).catch(() => null))?.ok ?? false, { timeout: 60_000, intervals: [200] })
    .toBe(true)
  return { proc, url, log }
}

const api = async <T>(url: string): Promise<T> => (await (await fetch(url)).json()) as T

/** The job's final accuracy, once the evaluation of the final model (the whole test set) is in. */
async function finalAccuracy(url: string, id: string): Promise<number> {
  let d: JobDetail | undefined
  await expect
    .poll(
      async () => {
        d = await api<JobDetail>(`${url}/api/jobs/${id}`)
        const last = d.curve.at(-1)
        return d.state === 'done' && last !== undefined && last.samples === d.info.dataset.test && last.clock > 0
      },
      { timeout: 200_000, intervals: [500] },
    )
    .toBe(true)
  return d!.curve.at(-1)!.testAccuracy
}

async function tabsMatch(url: string, id: string, tabs: Tab[]): Promise<void> {
  const model = new Float32Array(await (await fetch(`${url}/api/jobs/${id}/model`)).arrayBuffer())
  for (const t of tabs) {
    await expect.poll(async () => (await status(t.page)).phase, { timeout: 60_000 }).toBe('done')
    expect(maxAbsDiff(model, await readTabModel(t.page))).toBeLessThan(1e-3)
  }
}

test('SIGKILL mid-epoch and a restart on the same data directory: the tabs rejoin, the job completes, nothing lost', async ({ browser }) => {
  test.setTimeout(420_000)
  const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-e2e-durable-'))
  const procs: ChildProcess[] = []
  const tabs: Tab[] = []
  try {
    // the uninterrupted run: same flags, same seed
    const clean = await serve(await freePort(), null)
    procs.push(clean.proc)
    const [cleanJob] = await api<JobSummary[]>(`${clean.url}/api/jobs`)
    const cleanTabs = await Promise.all([0, 1, 2].map(() => openTab(browser, `${clean.url}/?job=${cleanJob.id}`)))
    const cleanAccuracy = await finalAccuracy(clean.url, cleanJob.id)
    await Promise.all(cleanTabs.map((t) => t.close()))
    clean.proc.kill('SIGTERM')

    const port = await freePort()
    const first = await serve(port, dataDir)
    procs.push(first.proc)
    const [job] = await api<JobSummary[]>(`${first.url}/api/jobs`)
    tabs.push(...(await Promise.all([0, 1, 2].map(() => openTab(browser, `${first.url}/?job=${job.id}`)))))
    // mid-epoch: some shards of the first epoch done, most not
    await expect.poll(async () => (await api<JobSummary>(`${first.url}/api/jobs/${job.id}`)).shardsDone, { timeout: 120_000, intervals: [100] }).toBeGreaterThanOrEqual(8)
    const before = await api<JobSummary>(`${first.url}/api/jobs/${job.id}`)
    expect(before.shardsDone).toBeLessThan(before.shardsTotal / 2)
    first.proc.kill('SIGKILL')
    await new Promise((r) => first.proc.once('exit', r))

    const second = await serve(port, dataDir)
    procs.push(second.proc)
    const jobs = await api<JobSummary[]>(`${second.url}/api/jobs`)
    expect(jobs.map((j) => j.id)).toEqual([job.id])
    expect(second.log.join('')).toMatch(/job resumed from the data directory/)
    // the shards done before the kill are still done (writes go out every 50 ms: one completed in the last few
    // milliseconds before the kill may be done again)
    expect((await api<JobSummary>(`${second.url}/api/jobs/${job.id}`)).shardsDone).toBeGreaterThanOrEqual(before.shardsDone - 1)
    const accuracy = await finalAccuracy(second.url, job.id)
    const detail = await api<JobDetail>(`${second.url}/api/jobs/${job.id}`)
    for (const r of detail.ledger) expect(r).toMatchObject({ processed: r.shards, missing: [] })
    expect(detail.shardsDone).toBe(detail.shardsTotal)
    await tabsMatch(second.url, job.id, tabs)
    console.log(`SIGKILL after ${before.shardsDone} of ${before.shardsTotal} shards: test accuracy ${(100 * accuracy).toFixed(2)} % (uninterrupted ${(100 * cleanAccuracy).toFixed(2)} %)`)
    expect(Math.abs(accuracy - cleanAccuracy)).toBeLessThanOrEqual(0.01)
  } finally {
    await Promise.all(tabs.map((t) => t.close().catch(() => {})))
    for (const p of procs) if (p.exitCode === null) p.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true })
  }
})
