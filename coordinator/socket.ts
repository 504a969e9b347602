// socket.io at the edge: per-socket rate and deadlines, address policies, then every worker message schema-checked
// and handed to the job core.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Server, Socket } from 'socket.io'
import { reject, type Rejection } from '../protocol/errors.ts'
import { OVER_LIMIT_HELLO_TIMEOUT_MS } from '../protocol/limits.ts'
import { ClientMessageSchemas, type ClientEvents, type ClientMessage, type ClientMessageType, type Msg, type ServerEvents } from '../protocol/messages.ts'
import type { JobCore, Outbox } from './core/job.ts'
import type { LassoJob } from './core/lasso-job.ts'
import type { Edge, Origin } from './edge/edge.ts'
import { ReadFlow } from './edge/flow.ts'
import { readyDeadlineMs } from './edge/options.ts'
import { SocketRate } from './edge/socket-rate.ts'
import type { AnyJob, JobStore } from './store.ts'

interface SocketData {
  worker?: string
  job?: string
  origin: Origin
  rate: SocketRate
  /** Bytes of frames pushed to this socket (relayed or resent updates, aggregates). */
  sent: number
  /** Leases are answered "none yet" until this time (ms, the edge's clock): back-off after stalls from its address. */
  leaseAfter?: number
  timers: Array<ReturnType<typeof setTimeout>>
  flow: ReadFlow
}

type WorkerSocket = Socket<ClientEvents, ServerEvents, Record<string, never>, SocketData>
export type WorkerServer = Server<ClientEvents, ServerEvents, Record<string, never>, SocketData>

function frameBytes(msg: unknown): number {
  const m = msg as { frame?: { byteLength?: unknown }; parts?: { byteLength?: unknown } } | null
  const b = m?.frame?.byteLength ?? m?.parts?.byteLength
  return typeof b === 'number' ? b : 0
}

/** The socket.io room of a job's ready workers: its per-clock events are encoded once for all of them. */
const room = (job: string) => `ready:${job}`

/** Routes job events to sockets by worker id; evictions also tell the edge's address policy. */
export class SocketOutbox implements Outbox {
  readonly sockets = new Map<string, WorkerSocket>()
  private io: WorkerServer | undefined

  constructor(private readonly edge?: Edge) {}

  /** The server whose rooms carry broadcasts. */
  attach(io: WorkerServer): void {
    this.io = io
  }

  broadcast<E extends keyof ServerEvents>(job: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void {
    if (!this.io) throw new Error('SocketOutbox: broadcast before attach(io)')
    const to = this.io.to(room(job)) as unknown as { emit(e: string, m: unknown): boolean }
    to.emit(event, msg)
  }

  enroll(job: string, worker: string): void {
    void this.sockets.get(worker)?.join(room(job))
  }

  send<E extends keyof ServerEvents>(to: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void {
    const s = this.sockets.get(to)
    if (!s) return
    s.data.sent += frameBytes(msg)
    ;(s.emit as (e: string, m: unknown) => void)(event, msg)
  }

  evict(worker: string, why: Rejection): void {
    const s = this.sockets.get(worker)
    if (!s) return
    if (this.edge && s.data.job) this.edge.evicted(s.data.job, worker, s.data.origin, why)
    s.emit('evicted', why)
    s.disconnect(true)
  }
}

/** Wires every client message type to its handler on each new socket. */
export function attachWorkers(io: WorkerServer, store: JobStore, out: SocketOutbox, log: Logger, edge: Edge): void {
  const known = new Set<string>(Object.keys(ClientMessageSchemas))
  io.on('connection', (socket) => {
    const origin = edge.connect(socket.handshake)
    socket.data.origin = origin
    socket.data.rate = new SocketRate(edge.settings.rate, edge.now)
    socket.data.sent = 0
    socket.data.flow = new ReadFlow(socket.conn.request.socket)
    // an honest tab says hello at once; one over its address's cap gets little time to hear why it is refused
    const helloWithin = origin.overLimit ? Math.min(OVER_LIMIT_HELLO_TIMEOUT_MS, edge.settings.helloTimeoutMs) : edge.settings.helloTimeoutMs
    socket.data.timers = [
      setTimeout(() => {
        if (socket.data.worker || !socket.connected) return
        edge.record(undefined, origin, 'helloTimeouts', {}, 'connection closed: no hello in time')
        socket.disconnect(true)
      }, helloWithin),
    ]
    for (const type of known as Set<ClientMessageType>) {
      socket.on(type, (msg: unknown, ack: unknown) => {
        // without an ack function, only a refusal is answered (as a `rejected` event)
        const reply =
          typeof ack === 'function' ? (ack as (r: unknown) => void) : (r: unknown) => (r as { ok?: unknown } | null)?.ok === false && socket.emit('rejected', r as Rejection)
        if (!admitted(socket, type, msg)) {
          reply(reject('ERR_RATE_LIMITED', `${type}: over this connection's message rate; slow down`))
          return
        }
        const sentBefore = socket.data.sent
        try {
          const r = handle(socket, type, msg)
          noteRefusal(socket, type, r)
          reply(r)
        } catch (e) {
          log.error({ err: e, type, worker: socket.data.worker }, 'handler failed')
          reply(reject('ERR_INTERNAL'))
        }
        // what the message made the coordinator send back to this socket (resends, reports) is paid for too
        socket.data.rate.chargeBytes(socket.data.sent - sentBefore)
      })
    }
    // events no handler takes still cost their sender
    socket.onAny((event: string) => {
      if (!known.has(event)) admitted(socket, 'unknown', undefined)
    })
    socket.on('error', (err) => {
      edge.record(socket.data.job, origin, 'badPackets', { worker: socket.data.worker, reason: err.message }, 'connection closed: bad packet')
    })
    socket.on('disconnect', (why) => {
      for (const t of socket.data.timers) clearTimeout(t)
      edge.disconnect(origin)
      const { worker, job } = socket.data
      if (!worker || !job) return
      out.sockets.delete(worker)
      store.any(job)?.leave(worker)
      log.info({ worker, job, why }, 'worker left')
    })
  })

  /** A refused message of a worker in a job: counted by code in the job view and logged (throttled). */
  function noteRefusal(socket: WorkerSocket, type: string, r: unknown): void {
    const { worker, job } = socket.data
    const x = r as Rejection | null
    if (!worker || !job || !x || x.ok !== false) return
    store.any(job)?.defence.rejected(worker, type, x.code, x.reason)
  }

  /** Pays for a message from the socket's budget; over it, counts and logs the refusal, and closes a flooding socket. */
  function admitted(socket: WorkerSocket, type: string, msg: unknown): boolean {
    socket.data.flow.handled()
    const verdict = socket.data.rate.admit(type, msg)
    if (verdict === 'ok') return true
    const { worker, job, origin, rate } = socket.data
    edge.counts.bump(job, 'rateLimited')
    const n = rate.logLine()
    if (n !== null) log.warn({ worker, job, address: origin.address, type, code: 'ERR_RATE_LIMITED', ...(n > 1 ? { count: n } : {}) }, 'message refused: over the rate limit')
    if (verdict === 'close' && socket.connected) {
      edge.counts.bump(job, 'floodClosed')
      edge.flooded(job, origin)
      log.warn({ worker, job, address: origin.address, type, code: 'ERR_RATE_LIMITED', refused: rate.refused }, 'connection closed: kept sending over the rate limit')
      socket.data.flow.cutOff(() => {
        socket.emit('evicted', reject('ERR_RATE_LIMITED', 'this connection kept sending over its message rate and was closed'))
        socket.disconnect(true)
      })
    }
    return false
  }

  function handle(socket: WorkerSocket, type: ClientMessageType, raw: unknown): unknown {
    const parsed = ClientMessageSchemas[type].safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      return reject('ERR_BAD_MESSAGE', `${type}: ${issue.path.join('.') || 'message'}: ${issue.message}`)
    }
    const m = parsed.data as ClientMessage
    if (m.type !== type) return reject('ERR_BAD_MESSAGE', `event ${type} carries a ${m.type} message`)
    if (m.type === 'hello') return hello(socket, m)
    const job = socket.data.job ? store.any(socket.data.job) : undefined
    const worker = socket.data.worker
    if (!job || !worker || !job.members.has(worker)) return reject('ERR_NOT_JOINED', `${type} before hello`)
    if (job.app === 'lasso') return lassoMessage(job, worker, m)
    const ready = job.members.get(worker)!.ready
    if (!ready && (m.type === 'lease' || m.type === 'update' || m.type === 'shard-done' || m.type === 'resend' || m.type === 'report')) {
      return reject('ERR_NOT_JOINED', `${type} before ready`)
    }
    switch (m.type) {
      case 'signal':
        return job.signal(worker, m)
      case 'ready':
        return ready ? reject('ERR_BAD_MESSAGE', 'ready twice') : job.ready(worker, m)
      case 'link':
        return job.link(worker, m)
      case 'stats':
        return job.stats(worker, m)
      case 'lease':
        return heldBack(socket, job) ? { ok: true, lease: null, done: false } : job.lease(worker, m)
      case 'update':
        return job.update(worker, m)
      case 'shard-done':
        return job.shardDone(worker, m)
      case 'resend':
        return job.resend(worker, m)
      case 'report':
        return job.report(worker, m)
      case 'pause':
        return ready ? job.pause(worker, m) : reject('ERR_NOT_JOINED', 'pause before ready')
      case 'lasso-ready':
      case 'lasso-hold':
      case 'lasso-result':
        return reject('ERR_BAD_MESSAGE', `${m.type}: job ${job.id} is an SGD job`)
      default: {
        const unreachable: never = m
        return unreachable
      }
    }
  }

  /** A Lasso job's worker: its three messages (and stats, taken and ignored); SGD's are refused. */
  function lassoMessage(job: LassoJob, worker: string, m: Exclude<ClientMessage, Msg<'hello'>>): unknown {
    const ready = job.members.get(worker)!.ready
    switch (m.type) {
      case 'lasso-ready':
        return ready ? reject('ERR_BAD_MESSAGE', 'lasso-ready twice') : job.ready(worker, m)
      case 'lasso-hold':
        return ready ? job.hold(worker, m) : reject('ERR_NOT_JOINED', 'lasso-hold before lasso-ready')
      case 'lasso-result':
        return ready ? job.result(worker, m) : reject('ERR_NOT_JOINED', 'lasso-result before lasso-ready')
      case 'stats':
        return { ok: true }
      case 'pause':
        return job.pause(worker, m)
      default:
        return reject('ERR_BAD_MESSAGE', `${m.type}: job ${job.id} is a Lasso job`)
    }
  }

  function hello(socket: WorkerSocket, m: Msg<'hello'>): unknown {
    if (socket.data.worker) return reject('ERR_BAD_MESSAGE', 'hello twice on one connection')
    const job = m.jobId ? store.any(m.jobId) : store.defaultJob()
    if (!job) return reject('ERR_UNKNOWN_JOB', m.jobId ? `no job ${m.jobId}` : 'no job is taking workers right now')
    const { origin } = socket.data
    const refused = edge.admitHello(job.id, origin)
    if (refused) {
      // answered, then closed once the answer is out
      setImmediate(() => socket.disconnect(true))
      return refused
    }
    if (job.state === 'done' || job.state === 'failed') return reject('ERR_JOB_CLOSED', `job ${job.id} is ${job.state}`)
    const worker = `w-${randomBytes(4).toString('hex')}`
    const r = job.hello(worker, m)
    if (r.ok) {
      socket.data.worker = worker
      socket.data.job = job.id
      out.sockets.set(worker, socket)
      log.info({ worker, job: job.id, address: origin.address, engine: m.engine, adapter: m.adapter }, 'worker joined')
      const deadline = readyDeadlineMs(edge.settings, job.app === 'sgd' ? job.info.hyper.linkTimeoutMs : 0)
      socket.data.timers.push(setTimeout(() => readyExpired(socket, job, worker, deadline), deadline))
      socket.data.leaseAfter = edge.leaseAfter(job.id, worker, origin)
    }
    return r
  }

  /** Leases wait while the socket's back-off runs (a job that ended still says so, so the worker can go home). */
  function heldBack(socket: WorkerSocket, job: JobCore): boolean {
    const until = socket.data.leaseAfter
    if (until === undefined || job.state === 'done' || job.state === 'failed') return false
    if (edge.now() < until) return true
    socket.data.leaseAfter = undefined
    return false
  }

  function readyExpired(socket: WorkerSocket, job: AnyJob, worker: string, deadline: number): void {
    if (!socket.connected || job.members.get(worker)?.ready !== false) return
    edge.record(job.id, socket.data.origin, 'readyTimeouts', { worker, deadlineMs: deadline, code: 'ERR_READY_TIMEOUT' }, 'worker evicted: no ready in time')
    socket.emit('evicted', reject('ERR_READY_TIMEOUT', `not ready ${Math.round(deadline / 1000)} s after hello`))
    socket.disconnect(true)
  }
}
