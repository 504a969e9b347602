// A tab closed mid-job: its shard goes back to the pool, the others neither hang nor lose a shard.
import { expect, openTab, startGrid, test, waitDone } from './helpers.ts'

test('a tab that closes mid-job is replaced by the others and the job completes', async ({ browser }) => {
  const grid = await startGrid({ staleness: 1, minWorkers: 3, epochs: 1 })
  try {
    const tabs = await Promise.all([0, 1, 2].map(() => openTab(browser, grid.url)))
    const { job } = grid
    await expect.poll(() => job.ledger.processed, { timeout: 120_000 }).toBeGreaterThanOrEqual(2)
    const victim = [...job.members.values()].find((m) => job.ledger.leasesOf(m.id).length > 0)!
    const shard = job.ledger.leasesOf(victim.id)[0].shard
    const page = await Promise.all(tabs.map(async (t) => ({ t, id: await t.page.evaluate(() => (globalThis as unknown as { tabgrid: { status(): { workerId: string } } }).tabgrid.status().workerId) })))
    const tab = page.find((p) => p.id === victim.id)!.t
    await tab.close()
    await expect.poll(() => job.members.has(victim.id), { timeout: 15_000 }).toBe(false)
    expect(job.readyCount()).toBe(2)
    await waitDone(job)
    const report = job.ledger.report()[0]
    expect(report.missing).toEqual([])
    expect(report.processed).toBe(job.info.shards.count)
    // the victim's shard was processed by a survivor
    expect(job.ledger.processors(0)[shard]).not.toBe(victim.id)
    await Promise.all(tabs.filter((t) => t !== tab).map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
