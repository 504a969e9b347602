// Runs a real coordinator with Node workers (CPU engine, fake WebRTC): the whole protocol without a browser.
import { pino } from 'pino'
import { io } from 'socket.io-client'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { CoordinatorLink, type WorkerSocket } from '../../client/transport/coordinator.ts'
import { Session, type Backend } from '../../client/train/session.ts'
import { startServer, type RunningServer, type ServerOptions } from '../../coordinator/server.ts'
import type { JobCore } from '../../coordinator/core/job.ts'
import type { CreateJob, Hyper } from '../../protocol/job.ts'
import { FakeNet, type NetOptions, type PeerCtor } from './fake-peer.ts'

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

/** Optional: the coordinator's options, and per-worker wrappers around what a worker is given (for attack tests). */
export interface GridOptions {
  /** The simple-peer constructor worker `worker` gets; by default the simulated network's own. */
  peerFor?(worker: number, Peer: PeerCtor): PeerCtor
  /** Headers on worker `worker`'s socket.io handshake, e.g. its own X-Forwarded-For address (with `trustProxy`). */
  headersFor?(worker: number): Record<string, string>
  /** Passed to startServer (port and log are the grid's). */
  server?: ServerOptions
}

export async function startNodeGrid(
  n: number,
  hyper: Partial<Hyper>,
  spec: Partial<CreateJob>,
  net: Partial<NetOptions> = {},
  backend: BackendFor = cpu,
  opts: GridOptions = {},
): Promise<NodeGrid> {
  const srv = await startServer({ ...opts.server, port: 0, log: pino({ level: 'silent' }) })
  const job = await srv.store.create({ data: 'builtin', ...spec, hyper: { minWorkers: n, ...hyper } as Hyper })
  return gridOn(srv, job, n, net, backend, opts)
}

/** `n` Node workers on a job of a running coordinator (one resumed from its data directory, say). */
export function gridOn(srv: RunningServer, job: JobCore, n: number, net: Partial<NetOptions> = {}, backend: BackendFor = cpu, opts: GridOptions = {}): NodeGrid {
  const fake = new FakeNet({ seed: 1, latencyMs: [0, 5], ...net })
  const grid: NodeGrid = {
    srv,
    job,
    net: fake,
    workers: [],
    runs: [],
    add() {
      const i = grid.workers.length
      const extraHeaders = opts.headersFor?.(i)
      const socket: WorkerSocket = io(srv.url, { transports: ['websocket'], forceNew: true, ...(extraHeaders ? { extraHeaders } : {}) })
      const w = new Session({
        backend: backend(i),
        link: new CoordinatorLink(socket),
        Peer: opts.peerFor ? opts.peerFor(i, fake.Peer) : fake.Peer,
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
