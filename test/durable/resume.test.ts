// A coordinator with a data directory stops mid-job; a new one on the same directory resumes the job from snapshot +
// log, with its ledger, and new workers finish it with every shard processed once per epoch.
import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { startServer } from '../../coordinator/server.ts'
import { maxAbsDiff } from '../../model/params.ts'
import { applyParts } from '../../model/update.ts'
import { gridOn, startNodeGrid, until, type NodeGrid } from '../sim/node-grid.ts'

const dirs: string[] = []
const grids: NodeGrid[] = []
afterEach(async () => {
  for (const g of grids.splice(0)) await g.close().catch(() => {})
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

describe('resume after a restart', () => {
  it('reopens a running job from its data directory: same model, same ledger; new workers finish it, every shard once per epoch', { timeout: 120_000 }, async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'tabgrid-resume-'))
    dirs.push(dataDir)
    const hyper = { staleness: 1, batch: 8, shardSize: 40, epochs: 2, snapshotEvery: 10, verifyRate: 0 }
    const a = await startNodeGrid(3, hyper, { model: 'mlp:16', trainLimit: 800 }, {}, undefined, { server: { dataDir } })
    grids.push(a)
    const job = a.job
    await until(() => job.ledger.processed >= 12, 60_000, 'a third of the shards')
    // the model with every accepted update, as the store should rebuild it: replica + queued factors + pending server sums
    const stop = async () => {
      for (const w of a.workers) w.leave()
      await Promise.allSettled(a.runs)
    }
    await stop()
    // updates go without an ack, so some may still be on their way when a worker's run ends: the coordinator has taken
    // them all once it took each socket's close (socket.io keeps order)
    await until(() => job.members.size === 0, 10_000, 'the workers gone')
    // the replica at its frontier: every update with clock ≤ frontier, what a rollback to that clock must give
    const atFrontier = { clock: job.replica.frontier, params: job.replica.params.slice() }
    const want = job.replica.params.slice()
    for (const from of job.replica.queuedSenders()) for (const u of job.replica.queuedOf(from)) applyParts(want, job.plan.tensors, u.sf, u.rows)
    applyParts(want, job.plan.tensors, job.ps.takeAll().parts, 0)
    const byShard = <T extends { epoch: number; shard: number }>(cs: T[]) => [...cs].sort((x, y) => x.epoch - y.epoch || x.shard - y.shard)
    const done = byShard(job.ledger.completions())
    const samples = job.samples
    const top = Math.max(...job.clocksByWorker.values()) - 1
    await a.srv.close()
    grids.splice(0)

    const srv = await startServer({ port: 0, log: pino({ level: 'silent' }), dataDir })
    const again = srv.store.get(job.id)
    expect(again, 'the job is back under its id').toBeDefined()
    expect(byShard(again!.ledger.completions())).toEqual(done)
    expect(again!.samples).toBe(samples)
    expect(again!.ssp.min).toBe(top + 1)
    expect(maxAbsDiff(again!.replica.params, want)).toBeLessThan(1e-5)
    // the model at a past clock, through the API (operator only) and the CLI
    const url = `${srv.url}/api/jobs/${job.id}/model?clock=${atFrontier.clock}`
    expect((await fetch(url)).status).toBe(401)
    const auth = { headers: { authorization: `Bearer ${srv.operatorToken}` } }
    const got = await fetch(url, auth)
    expect(got.headers.get('x-tabgrid-clock')).toBe(String(atFrontier.clock))
    expect(maxAbsDiff(new Float32Array(await got.arrayBuffer()), atFrontier.params)).toBeLessThan(1e-5)
    const detail = (await (await fetch(`${srv.url}/api/jobs/${job.id}`)).json()) as { disk: { snapshots: number; oldestClock: number; bytes: number } }
    expect(detail.disk.snapshots).toBeGreaterThan(0)
    expect(detail.disk.bytes).toBeGreaterThan(0)
    expect(await (await fetch(`${srv.url}/api/jobs/${job.id}/model?clock=${detail.disk.oldestClock - 1}`, auth)).json()).toMatchObject({ code: 'ERR_LOG_TRUNCATED' })
    expect((await fetch(`${srv.url}/api/jobs/${job.id}/model?clock=-3`, auth)).status).toBe(400)
    const file = join(dataDir, 'rollback.f32')
    // asynchronously: the coordinator answering it runs in this process
    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const p = spawn(process.execPath, ['bin/tabgrid.js', 'rollback', job.id, '--clock', String(atFrontier.clock), '--server', srv.url, '--token', srv.operatorToken, '--out', file])
      let stderr = ''
      p.stderr.on('data', (d) => (stderr += String(d)))
      p.on('exit', (code) => resolve({ code, stderr }))
    })
    expect(cli.code, cli.stderr).toBe(0)
    expect(cli.stderr).toMatch(/the model of .* at clock/)
    expect(maxAbsDiff(new Float32Array(new Uint8Array(readFileSync(file)).buffer), atFrontier.params)).toBeLessThan(1e-5)
    // a new job from that past model (operator only)
    const post = (body: unknown, token = srv.operatorToken) =>
      fetch(`${srv.url}/api/jobs/${job.id}/rollback`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) })
    expect((await post({ clock: atFrontier.clock }, 'wrong')).status).toBe(401)
    expect((await post({ clock: 'soon' })).status).toBe(400)
    const made = await post({ clock: atFrontier.clock })
    expect(made.status).toBe(201)
    const next = (await made.json()) as { id: string; from: { job: string; clock: number } }
    expect(next.from).toEqual({ job: job.id, clock: atFrontier.clock })
    expect(maxAbsDiff(srv.store.get(next.id)!.replica.params, atFrontier.params)).toBeLessThan(1e-5)
    const b = gridOn(srv, again!, 3)
    grids.push(b)
    await until(() => again!.state === 'done', 90_000, 'the resumed job done')
    for (const r of again!.ledger.report()) expect(r).toMatchObject({ missing: [], processed: r.shards })
    // what was done before the restart was not done again
    for (const c of done) expect(again!.ledger.processors(c.epoch)[c.shard]).toBe(c.worker)
    await Promise.allSettled(b.runs)
    await until(() => (b.workers[0].status.phase as string) === 'done', 10_000, 'workers done')
    for (const w of b.workers) expect(maxAbsDiff(await w.readModel(), again!.replica.params)).toBeLessThan(1e-3)
  })
})
