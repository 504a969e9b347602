// Runs a real coordinator with Node workers (CPU engine, fake WebRTC): the whole protocol without a browser.
import { pino } from 'pino'
import { io } from 'socket.io-client'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { CoordinatorLink, type WorkerSocket } from '../../client/transport/coordinator.ts'
import { Session, type Backend } from '../../client/train/session.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import type { JobCore } from '../../coordinator/core/job.ts'
import type { CreateJob, Hyper } from '../../protocol/job.ts'
import { FakeNet, type NetOptions } from './fake-peer.ts'

export interface NodeGrid {
  srv: RunningServer
  job: JobCore
  net: FakeNet
  workers: Session[]
  runs: Promise<void>[]
  add(): Session
  close(): Promise<void>
}

/** The CPU engine for every worker unless a test or benchmark wraps it (say, to make one worker slow). */
export type BackendFor = (worker: number) => Backend

const cpu: BackendFor = () => ({ kind: 'cpu', create: createCpuEngine })

export async function startNodeGrid(
  n: number,
  hyper: Partial<Hyper>,
  spec: Partial<CreateJob>,
  net: Partial<NetOptions> = {},
  backend: BackendFor = cpu,
): Promise<NodeGrid> {
  const srv = await startServer({ port: 0, log: pino({ level: 'silent' }) })
  const job = await srv.store.create({ data: 'builtin', ...spec, hyper: { minWorkers: n, ...hyper } as Hyper })
  const fake = new FakeNet({ seed: 1, latencyMs: [0, 5], ...net })
  const grid: NodeGrid = {
    srv,
    job,
    net: fake,
    workers: [],
    runs: [],
    add() {
      const socket: WorkerSocket = io(srv.url, { transports: ['websocket'], forceNew: true })
      const w = new Session({
        backend: backend(grid.workers.length),
        link: new CoordinatorLink(socket),
        Peer: fake.Peer,
        jobId: job.id,
        fetchShard: async (url) => (await fetch(srv.url + url)).arrayBuffer(),
      })
      grid.workers.push(w)
      grid.runs.push(w.run())
      return w
    },
    async close() {
      for (const w of grid.workers) w.leave()
      await srv.close()
    },
  }
  for (let i = 0; i < n; i++) grid.add()
  return grid
}

export async function until(pred: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
