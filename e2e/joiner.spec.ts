// A tab that joins mid-job starts from the coordinator's current model, not from zero.
import { expect, openTab, startGrid, status, test, waitDone } from './helpers.ts'

test('a tab joining mid-job starts from the current model', async ({ browser }) => {
  const grid = await startGrid({ staleness: 2, minWorkers: 2, epochs: 2, batch: 16, lr: 0.2 })
  try {
    const { job } = grid
    const first = await Promise.all([0, 1].map(() => openTab(browser, grid.url)))
    await expect.poll(() => job.curve.points.length).toBeGreaterThan(0)
    const initialLoss = job.curve.points[0].testLoss
    await expect.poll(() => job.curve.last!.testLoss, { timeout: 120_000 }).toBeLessThan(0.5 * initialLoss)
    const late = await openTab(browser, grid.url)
    await expect.poll(async () => (await status(late.page)).firstLoss, { timeout: 60_000 }).not.toBeNull()
    const s = await status(late.page)
    const jobLoss = job.curve.last!.testLoss
    // its loss on its first shard is near the job’s test loss, far below the initial model’s
    expect(s.firstLoss!).toBeLessThan(0.5 * initialLoss)
    expect(Math.abs(s.firstLoss! - jobLoss)).toBeLessThan(0.5 * initialLoss)
    await waitDone(job)
    expect(job.clocksByWorker.get(s.workerId)).toBeGreaterThan(0)
    await Promise.all([...first, late].map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
