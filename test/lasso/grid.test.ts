// A Lasso job on a real coordinator with Node workers over socket.io (the volunteer's Session, CPU engine): converges
// to the sequential reference, survives a worker leaving mid-run, refuses a hostile socket's bad messages with codes.
import { pino } from 'pino'
import { io } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { correlatedData } from '../../apps/lasso/data.ts'
import { objective, residual } from '../../apps/lasso/objective.ts'
import { sequentialLasso } from '../../apps/lasso/reference.ts'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { CoordinatorLink, type WorkerSocket } from '../../client/transport/coordinator.ts'
import { Session } from '../../client/train/session.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import type { LassoHyper } from '../../protocol/lasso.ts'
import { FakeNet } from '../sim/fake-peer.ts'
import { until } from '../sim/node-grid.ts'

const servers: RunningServer[] = []
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close()
})

async function lassoGrid(workers: number, hyper: Partial<LassoHyper>) {
  const srv = await startServer({ port: 0, log: pino({ level: 'silent' }) })
  servers.push(srv)
  const job = await srv.store.createLasso({ data: 'correlated:200x400', hyper: { minWorkers: workers, ...hyper } as LassoHyper })
  const net = new FakeNet({ seed: 1, latencyMs: [0, 5] })
  const sessions: Session[] = []
  const runs: Array<Promise<void>> = []
  const add = () => {
    const socket: WorkerSocket = io(srv.url, { transports: ['websocket'], forceNew: true })
    const s = new Session({
      backend: { kind: 'cpu', create: createCpuEngine },
      link: new CoordinatorLink(socket),
      Peer: net.Peer,
      jobId: job.id,
      fetchShard: async (url) => (await fetch(srv.url + url)).arrayBuffer(),
    })
    sessions.push(s)
    const run = s.run()
    run.catch(() => undefined) // awaited (settled) by the test; a failure shows in the job's figures
    runs.push(run)
    return s
  }
  for (let i = 0; i < workers; i++) add()
  return { srv, job, sessions, runs, add }
}

describe('Lasso on the grid (socket.io, Node workers)', () => {
  const data = correlatedData({ n: 200, p: 400 })

  it('3 workers converge to the sequential objective; β downloads; a worker that leaves mid-run loses nothing', { timeout: 120_000 }, async () => {
    const g = await lassoGrid(3, { blockColumns: 50 })
    const ref = sequentialLasso(data, g.job.info.lambda, { tolerance: 1e-12, maxSweeps: 5000 })
    await until(() => g.job.completed >= 30, 30_000, 'the first rounds')
    g.sessions[1].leave()
    await until(() => g.job.members.size === 2, 10_000, 'the leaver gone')
    expect(g.job.blocks.held + g.job.blocks.of(g.sessions[1].status.workerId).length).toBeLessThanOrEqual(g.job.blocks.count)
    await until(() => g.job.state === 'done', 90_000, 'convergence')
    await Promise.allSettled(g.runs)
    expect(g.job.stop).toBe('converged')
    const exact = objective(data, g.job.beta, g.job.info.lambda)
    expect(Math.abs(exact - ref.objective) / ref.objective).toBeLessThan(1e-4)
    let drift = 0
    const r = residual(data, g.job.beta)
    for (let i = 0; i < r.length; i++) drift = Math.max(drift, Math.abs(r[i] - g.job.r[i]))
    expect(drift).toBeLessThan(1e-9)
    for (const i of [0, 2]) {
      expect(g.sessions[i].status.phase).toBe('done')
      expect(g.sessions[i].status.lasso!.tasks).toBeGreaterThan(0)
    }
    expect(g.job.detail().defence.rejected).toEqual({})
    // the job view, and β as CSV: a header, p rows and the intercept
    const detail = (await (await fetch(`${g.srv.url}/api/jobs/${g.job.id}`)).json()) as { app: string; rounds: number; curve: unknown[]; stop: string }
    expect(detail).toMatchObject({ app: 'lasso', stop: 'converged' })
    expect(detail.curve.length).toBeGreaterThan(1)
    const csv = (await (await fetch(`${g.srv.url}/api/jobs/${g.job.id}/beta`)).text()).trim().split('\n')
    expect(csv).toHaveLength(data.p + 2)
    expect(Number(csv[1].split(',')[1])).toBeCloseTo(g.job.beta[0], 6)
    const list = (await (await fetch(`${g.srv.url}/api/jobs`)).json()) as Array<{ app: string }>
    expect(list.map((j) => j.app)).toEqual(['lasso'])
    // an SGD route on a Lasso job says what it is
    expect((await fetch(`${g.srv.url}/api/jobs/${g.job.id}/model`)).status).toBe(409)
  })

  it('a hostile socket: coded refusals for messages of the other app, blocks it does not hold, rounds it was not given', { timeout: 60_000 }, async () => {
    const g = await lassoGrid(1, { blockColumns: 100 })
    await until(() => g.job.completed >= 5, 30_000, 'rounds')
    const s: WorkerSocket = io(g.srv.url, { transports: ['websocket'], forceNew: true })
    const ask = (type: string, msg: unknown) => (s.timeout(5000) as unknown as { emitWithAck(t: string, m: unknown): Promise<{ ok: boolean; code?: string }> }).emitWithAck(type, msg)
    const hello = await ask('hello', { type: 'hello', jobId: g.job.id, engine: 'cpu' })
    expect(hello).toMatchObject({ ok: true, app: 'lasso' })
    expect((await ask('lasso-result', { type: 'lasso-result', round: 0, view: -1, deltas: new Uint8Array(4) })).code).toBe('ERR_NOT_JOINED')
    expect((await ask('ready', { type: 'ready' })).code).toBe('ERR_BAD_MESSAGE')
    expect((await ask('lasso-ready', { type: 'lasso-ready' })).ok).toBe(true)
    const before = { beta: g.job.beta.slice(), completed: g.job.completed }
    expect((await ask('lasso-hold', { type: 'lasso-hold', blocks: [0, 1, 2, 3] })).code).toBe('ERR_LEASE')
    expect((await ask('lasso-result', { type: 'lasso-result', round: 1_000_000, view: -1, deltas: new Uint8Array(4) })).code).toBe('ERR_NOT_SCHEDULED')
    expect((await ask('lasso-result', { type: 'lasso-result', round: -1, view: -1, deltas: new Uint8Array(4) })).code).toBe('ERR_BAD_MESSAGE')
    expect((await ask('lease', { type: 'lease' })).code).toBe('ERR_BAD_MESSAGE')
    s.disconnect()
    expect(g.job.detail().defence.rejected).toMatchObject({ ERR_LEASE: 1, ERR_NOT_SCHEDULED: 1, ERR_BAD_MESSAGE: 3 })
    // the honest worker's progress only
    for (let j = 0; j < data.p; j++) if (g.job.beta[j] !== before.beta[j]) expect(g.job.completed).toBeGreaterThan(before.completed)
    await until(() => g.job.state === 'done', 60_000, 'convergence')
    expect(g.job.stop).toBe('converged')
  })
})
