// A tab closed mid-job: its shards go back to the pool, the others neither hang nor lose a shard.
import { expect, openTab, startGrid, test, waitDone } from './helpers.ts'

test('a tab that closes mid-job is replaced by the others and the job completes', async ({ browser }) => {
  const grid = await startGrid({ staleness: 1, minWorkers: 3, epochs: 1, batch: 16 })
  try {
    const tabs = await Promise.all([0, 1, 2].map(() => openTab(browser, grid.url)))
    const { job } = grid
    await expect.poll(() => job.ledger.processed, { timeout: 120_000 }).toBeGreaterThanOrEqual(2)
    // a worker in the middle of a shard (samples counted on its lease, far from the end)
    const busy = () => [...job.members.values()].find((m) => job.ledger.leasesOf(m.id).some((l) => l.rows > 0))
    await expect.poll(() => busy() !== undefined).toBe(true)
    const victim = busy()!
    const page = await Promise.all(tabs.map(async (t) => ({ t, id: await t.page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): { workerId: string } } }).tabgrid.status().workerId) })))
    const tab = page.find((p) => p.id === victim.id)!.t
    await tab.close()
    await expect.poll(() => job.members.has(victim.id), { timeout: 15_000 }).toBe(false)
    expect(job.readyCount()).toBe(2)
    await waitDone(job)
    const report = job.ledger.report()[0]
    expect(report.missing).toEqual([])
    expect(report.processed).toBe(job.info.shards.count)
    // the shard it held (and the next, if it was granted ahead) went back to the pool and survivors processed them
    const back = job.returned.filter((r) => r.worker === victim.id)
    expect(back.length).toBeGreaterThanOrEqual(1)
    expect(back.length).toBeLessThanOrEqual(2)
    for (const b of back) expect(job.ledger.processors(b.epoch)[b.shard]).not.toBe(victim.id)
    await Promise.all(tabs.filter((t) => t !== tab).map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
