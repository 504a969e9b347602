// What a person sees: the volunteer page's device and job panels, the CPU fallback, and the console listing.
import { E2E_MLP, expect, openTab, startGrid, test, waitDone } from './helpers.ts'

test('the volunteer page shows its WebGPU adapter and the console lists the job and its workers', async ({ browser }) => {
  const grid = await startGrid({ ...E2E_MLP.hyper, minWorkers: 2, epochs: 1 }, { model: E2E_MLP.model, trainLimit: 800 })
  try {
    const gpuTab = await openTab(browser, grid.url)
    await expect(gpuTab.page.locator('#engine')).toHaveText('WebGPU (asked for by ?engine=webgpu)')
    await expect(gpuTab.page.locator('#adapter')).not.toHaveText('–')
    await expect(gpuTab.page.locator('#limits')).toContainText('maxStorageBufferBindingSize')
    const cpuTab = await openTab(browser, grid.url, { noWebGpu: true })
    await expect(cpuTab.page.locator('#notice')).toContainText('no WebGPU')
    await expect(cpuTab.page.locator('#engine')).toContainText('CPU')
    const consolePage = await (await browser.newContext()).newPage()
    await consolePage.goto(`${grid.srv.url}/console`)
    const card = consolePage.locator(`section[data-job="${grid.job.id}"]`)
    await expect(card).toBeVisible()
    await expect(card.locator('td.workers')).toHaveText('2')
    // the model, each tensor's path with its bytes, and the export links
    await expect(card.locator('td.model')).toContainText('mlp:64')
    await expect(card.locator('table.tensors')).toContainText('dense_1/kernel')
    await expect(card.locator('table.tensors td.path-sf')).toHaveCount(1)
    await expect(card.locator('p.export a').first()).toHaveAttribute('href', `/api/jobs/${grid.job.id}/export/model.json?download`)
    await expect(gpuTab.page.locator('#paths')).toContainText('dense_1/kernel sf')
    await expect(gpuTab.page.locator('#phase')).toHaveText(/training|waiting|done|idle/)
    await expect.poll(() => grid.job.readyCount()).toBe(2)
    expect(new Set([...grid.job.members.values()].map((m) => m.engine))).toEqual(new Set(['webgpu', 'cpu']))
    await waitDone(grid.job)
    await expect(gpuTab.page.locator('#notice')).toContainText('done')
    await expect(card.locator('.state-done')).toBeVisible()
    // a finished tab hangs up: the job keeps no members
    await expect.poll(() => grid.job.members.size).toBe(0)
    // left to choose, a tab on a software adapter (SwiftShader here) runs the CPU kernels, and says why
    const autoTab = await openTab(browser, grid.url, { engine: 'auto' })
    await expect(autoTab.page.locator('#engine')).toContainText('CPU (the WebGPU adapter is a software one')
    await expect(autoTab.page.locator('#adapter')).toContainText('swiftshader')
    await Promise.all([gpuTab.close(), cpuTab.close(), autoTab.close(), consolePage.context().close()])
  } finally {
    await grid.close()
  }
})
