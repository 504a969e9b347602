// Starts a coordinator: HTTP app + socket.io on one port, the job store, the periodic duties.
import { randomBytes } from 'node:crypto'
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { fileURLToPath } from 'node:url'
import { pino, type Logger } from 'pino'
import { Server } from 'socket.io'
import { MAX_SOCKET_BYTES } from '../protocol/limits.ts'
import { EvalPool } from './eval-pool.ts'
import { createApp } from './http.ts'
import { attachWorkers, SocketOutbox, type WorkerServer } from './socket.ts'
import { JobStore } from './store.ts'

export const CLIENT_DIR = fileURLToPath(new URL('../dist/client', import.meta.url))

export interface ServerOptions {
  port?: number
  host?: string
  clientDir?: string
  operatorToken?: string
  log?: Logger
}

export interface RunningServer {
  url: string
  port: number
  store: JobStore
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
  const out = new SocketOutbox()
  const evals = new EvalPool()
  const store = new JobStore(out, (plan, test) => evals.evaluator(plan, test), (e) => log.error({ err: e }, 'evaluation failed'))
  const app = createApp({ store, clientDir: opts.clientDir ?? CLIENT_DIR, operatorToken, log })
  const http = createServer(app)
  const io: WorkerServer = new Server(http, { maxHttpBufferSize: MAX_SOCKET_BYTES, serveClient: false })
  attachWorkers(io, store, out, log)
  const timer = setInterval(() => {
    try {
      store.tick()
    } catch (e) {
      log.error({ err: e }, 'periodic tick failed')
    }
  }, 1000)
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
    operatorToken,
    log,
    close: async () => {
      clearInterval(timer)
      await io.close()
      await evals.close()
      http.closeAllConnections()
      await new Promise<void>((r) => http.close(() => r()))
    },
  }
}
