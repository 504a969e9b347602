// A convolutional net on three tabs: conv and pool kernels in WGSL, conv kernels through the parameter server, the
// dense layer's kernel as factors over WebRTC; every tab ends with the coordinator's model.
import { expect, lastAccuracy, openTab, replicaDiff, startGrid, status, test, waitDone } from './helpers.ts'

test('3 tabs train the cnn preset: every tab’s model equals the coordinator’s, and it learns', async ({ browser }) => {
  // B 8 is a quarter of the default batch, so half the default rate: at 0.5 about one run in eight stayed on the
  // first plateau (~15 % after the epoch; 48–89 % otherwise); at 0.25 it ended at 89–92 % in ten runs, and
  // bench/sgd-defaults.ts --model cnn --batch 8 --train 1200 agrees (90–93 % at 0.25, 85–94 % at 0.5)
  const grid = await startGrid({ batch: 8, lr: 0.25, staleness: 1, minWorkers: 3, epochs: 1, shardSize: 100 }, { model: 'cnn', trainLimit: 1200 })
  try {
    const { job } = grid
    const tabs = await Promise.all([0, 1, 2].map(() => openTab(browser, grid.url)))
    await waitDone(job)
    const paths = Object.fromEntries(job.plan.tensors.map((t) => [t.name, job.comm.paths[t.index]]))
    expect(paths).toMatchObject({ 'conv2d_1/kernel': 'ps', 'conv2d_1/bias': 'ps', 'conv2d_2/kernel': 'ps', 'dense_1/kernel': 'sf', 'dense_2/bias': 'ps' })
    const initial = job.curve.points[0].testAccuracy
    const final = await lastAccuracy(job)
    console.log(`cnn on 3 tabs: test accuracy ${(100 * initial).toFixed(1)} % → ${(100 * final).toFixed(1)} %`)
    expect(final).toBeGreaterThan(0.75)
    for (const t of tabs) {
      const s = await status(t.page)
      expect(s.phase).toBe('done')
      expect(s.bytes.p2pReceived).toBeGreaterThan(0)
      expect(s.bytes.psReceived).toBeGreaterThan(0)
      expect(await replicaDiff(job, t.page)).toBeLessThan(1e-3)
    }
    expect([...job.enginesByWorker.values()]).toEqual(['webgpu', 'webgpu', 'webgpu'])
    await Promise.all(tabs.map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
