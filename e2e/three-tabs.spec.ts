// Three volunteer tabs train the built-in job over WebRTC under SSP, and their replicas agree with the coordinator's.
import { E2E_MLP, expect, lastAccuracy, openTab, replicaDiff, startGrid, status, test, waitDone } from './helpers.ts'

for (const staleness of [2, 0]) {
  test(`3 tabs train an MLP to ≥ 80 % test accuracy: factors over WebRTC, the rest through the parameter server (s=${staleness})`, async ({ browser }) => {
    const grid = await startGrid({ ...E2E_MLP.hyper, staleness, minWorkers: 3, epochs: 1 }, { model: E2E_MLP.model, trainLimit: E2E_MLP.trainLimit })
    try {
      const tabs = await Promise.all([0, 1, 2].map(() => openTab(browser, grid.url)))
      await waitDone(grid.job)
      const { job } = grid
      expect(await lastAccuracy(job)).toBeGreaterThanOrEqual(0.8)
      expect(job.traffic.p2p).toBeGreaterThan(0)
      // every update went direct; a frame late on a busy tab may be fetched once from the coordinator
      expect(job.traffic.relay).toBeLessThan(0.02 * job.traffic.p2p)
      const tensors = job.traffic.tensors(job.comm.paths)
      expect(tensors.map((t) => `${t.name}:${t.path}`)).toEqual(['dense_1/kernel:sf', 'dense_1/bias:ps', 'dense_2/kernel:ps', 'dense_2/bias:ps'])
      for (const t of tensors) expect(t.sent).toBeGreaterThan(0)
      expect(job.ssp.maxObservedStaleness).toBeLessThanOrEqual(staleness)
      for (const e of job.ledger.report()) expect(e).toMatchObject({ processed: job.info.shards.count, missing: [] })
      for (const t of tabs) {
        const s = await status(t.page)
        expect(s.bytes.p2pReceived).toBeGreaterThan(0)
        expect(s.bytes.psReceived).toBeGreaterThan(0)
        expect(s.aggregates).toBeGreaterThan(0)
        expect(s.bytes.relayReceived).toBe(0)
        expect(s.paths['dense_1/kernel']).toBe('sf')
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
