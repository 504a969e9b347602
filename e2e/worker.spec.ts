// `tabgrid worker` trains beside browser tabs: two tabs (factors between them over WebRTC) and one headless Node
// worker (no WebRTC: the coordinator relays factors to and from it) finish one job, and every replica agrees.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { maxAbsDiff } from '../model/params.ts'
import { expect, openTab, replicaDiff, startGrid, status, test, waitDone } from './helpers.ts'

/** The worker as a user starts it; resolves with its exit status and what it printed. */
function tabgridWorker(args: string[]): { exited: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn('node', ['bin/tabgrid.js', 'worker', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => {
    stderr += d
    if (process.env.E2E_LOG) process.stderr.write(`[worker] ${d}`)
  })
  return { exited: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr }))) }
}

test('a headless worker trains with two tabs through the relay, and its model equals the coordinator’s and the tabs’', async ({ browser }) => {
  // every dense kernel as factors, so factors flow between all three; 384 samples at B=16: 24 clocks in all
  const grid = await startGrid({ batch: 16, shardSize: 64, epochs: 1, staleness: 1, minWorkers: 3, linkTimeoutMs: 1500, paths: 'sf' }, { model: 'mlp:16', trainLimit: 384 })
  try {
    const file = join(mkdtempSync(join(tmpdir(), 'tabgrid-worker-')), 'model.f32')
    const worker = tabgridWorker(['--server', grid.srv.url, '--job', grid.job.id, '--once', '--json', '--save-model', file])
    // one tab on the WGSL kernels, one left to choose (the CPU kernels on SwiftShader): three engines, one model
    const tabs = await Promise.all([openTab(browser, grid.url), openTab(browser, grid.url, { engine: 'auto' })])
    await waitDone(grid.job, 60_000)
    const { code, stdout, stderr } = await worker.exited
    expect(code, stderr).toBe(0)
    const lines = stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown> & { bytes?: Record<string, number> })
    const end = lines.find((l) => l.type === 'end')!
    expect(end).toMatchObject({ job: grid.job.id, outcome: 'done' })
    expect(lines.at(-1)).toEqual({ type: 'exit', code: 0, jobs: 1 })
    // the worker did its share, and took its peers' factors from the relay only
    expect(end.clocks).toBeGreaterThan(0)
    expect(end.bytes!.relayReceived).toBeGreaterThan(0)
    expect(end.bytes!.p2pReceived).toBe(0)
    const { job } = grid
    expect(job.comm.paths.every((p, i) => p === 'sf' || !job.plan.tensors[i].factorable)).toBe(true)
    expect(job.traffic.relay).toBeGreaterThan(0)
    expect(job.traffic.p2p).toBeGreaterThan(0)
    for (const e of job.ledger.report()) expect(e).toMatchObject({ processed: job.info.shards.count, missing: [] })
    const saved = readFileSync(file)
    const model = new Float32Array(saved.buffer, saved.byteOffset, saved.byteLength / 4)
    expect(maxAbsDiff(model, job.replica.params)).toBeLessThan(1e-3)
    for (const t of tabs) {
      const s = await status(t.page)
      // the other tab direct, the worker through the relay
      expect(Object.values(s.peers).sort()).toEqual(['p2p', 'relay'])
      expect(await replicaDiff(job, t.page)).toBeLessThan(1e-3)
    }
    console.log(`worker: ${end.clocks} clocks, relay in ${end.bytes!.relayReceived} B; replicas agree to ${maxAbsDiff(model, job.replica.params).toExponential(1)}`)
    await Promise.all(tabs.map((t) => t.close()))
  } finally {
    await grid.close()
  }
})
