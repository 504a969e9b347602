// Three volunteer tabs train the built-in job over WebRTC under SSP, and their replicas agree with the coordinator's.
import { expect, lastAccuracy, openTab, replicaDiff, startGrid, status, test, waitDone } from './helpers.ts'

for (const staleness of [2, 0]) {
  test(`3 tabs reach ≥ 90 % test accuracy with updates over WebRTC (s=${staleness})`, async ({ browser }) => {
    const grid = await startGrid({ staleness, minWorkers: 3, epochs: 2 })
    try {
      const tabs = await Promise.all([0, 1, 2].map(() => openTab(browser, grid.url)))
      await waitDone(grid.job)
      const { job } = grid
      expect(lastAccuracy(job)).toBeGreaterThanOrEqual(0.9)
      expect(job.bytes.p2p).toBeGreaterThan(0)
      expect(job.bytes.relay).toBe(0)
      expect(job.ssp.maxObservedStaleness).toBeLessThanOrEqual(staleness)
      for (const e of job.ledger.report()) expect(e).toMatchObject({ processed: job.info.shards.count, missing: [] })
      for (const t of tabs) {
        const s = await status(t.page)
        expect(s.bytes.p2pReceived).toBeGreaterThan(0)
        expect(s.bytes.relayReceived).toBe(0)
        expect(Object.values(s.peers)).toEqual(['p2p', 'p2p'])
        expect(await replicaDiff(job, t.page)).toBeLessThan(1e-3)
      }
      // every tab worked: the clocks it reached are all positive
      expect([...job.clocksByWorker.values()].every((c) => c > 0)).toBe(true)
      await Promise.all(tabs.map((t) => t.close()))
    } finally {
      await grid.close()
    }
  })
}
