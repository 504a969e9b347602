// A tab that cannot open WebRTC links (?p2p=off) still trains: the coordinator relays its pairs' updates.
import { E2E_MLP, expect, lastAccuracy, openTab, replicaDiff, startGrid, status, test, waitDone } from './helpers.ts'

test('pairs without a data channel go through the relay, and the page says so', async ({ browser }) => {
  // factors on every kernel: an update with none reaches no peer, so only those exercise the relay
  const grid = await startGrid({ staleness: 1, minWorkers: 3, epochs: 1, linkTimeoutMs: 1500, paths: 'sf' })
  try {
    const direct = await Promise.all([0, 1].map(() => openTab(browser, grid.url)))
    const blocked = await openTab(browser, `${grid.url}&p2p=off`)
    await waitDone(grid.job)
    const { job } = grid
    expect(job.traffic.relay).toBeGreaterThan(0)
    expect(job.traffic.p2p).toBeGreaterThan(0)
    expect(await lastAccuracy(job)).toBeGreaterThanOrEqual(0.75)
    const b = await status(blocked.page)
    expect(Object.values(b.peers)).toEqual(['relay', 'relay'])
    expect(b.bytes.relayReceived).toBeGreaterThan(0)
    expect(b.bytes.p2pReceived).toBe(0)
    await expect(blocked.page.locator('#peers')).toContainText('relay (no direct link)')
    for (const t of direct) {
      const s = await status(t.page)
      expect(Object.values(s.peers).sort()).toEqual(['p2p', 'relay'])
      expect(s.bytes.p2pReceived).toBeGreaterThan(0)
      expect(s.bytes.relayReceived).toBeGreaterThan(0)
    }
    for (const t of [...direct, blocked]) expect(await replicaDiff(job, t.page)).toBeLessThan(1e-3)
    await Promise.all([...direct, blocked].map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
