// socket.io at the edge: validates every worker message against its schema, then hands it to the job core.
import { randomBytes } from 'node:crypto'
import type { Logger } from 'pino'
import type { Server, Socket } from 'socket.io'
import { reject, type Rejection } from '../protocol/errors.ts'
import { ClientMessageSchemas, type ClientEvents, type ClientMessage, type ClientMessageType, type Msg, type ServerEvents } from '../protocol/messages.ts'
import type { Outbox } from './core/job.ts'
import type { JobStore } from './store.ts'

interface SocketData {
  worker?: string
  job?: string
}
type WorkerSocket = Socket<ClientEvents, ServerEvents, Record<string, never>, SocketData>
export type WorkerServer = Server<ClientEvents, ServerEvents, Record<string, never>, SocketData>

/** Routes job events to sockets by worker id. */
export class SocketOutbox implements Outbox {
  readonly sockets = new Map<string, WorkerSocket>()

  send<E extends keyof ServerEvents>(to: string, event: E, msg: Parameters<ServerEvents[E]>[0]): void {
    const s = this.sockets.get(to)
    if (s) (s.emit as (e: string, m: unknown) => void)(event, msg)
  }

  evict(worker: string, why: Rejection): void {
    const s = this.sockets.get(worker)
    if (!s) return
    s.emit('evicted', why)
    s.disconnect(true)
  }
}

/** Wires every client message type to its handler on each new socket. */
export function attachWorkers(io: WorkerServer, store: JobStore, out: SocketOutbox, log: Logger): void {
  io.on('connection', (socket) => {
    for (const type of Object.keys(ClientMessageSchemas) as ClientMessageType[]) {
      socket.on(type, (msg: unknown, ack: unknown) => {
        const reply = typeof ack === 'function' ? (ack as (r: unknown) => void) : (r: unknown) => socket.emit('rejected', r as Rejection)
        try {
          reply(handle(socket, type, msg))
        } catch (e) {
          log.error({ err: e, type, worker: socket.data.worker }, 'handler failed')
          reply(reject('ERR_INTERNAL'))
        }
      })
    }
    socket.on('disconnect', (why) => {
      const { worker, job } = socket.data
      if (!worker || !job) return
      out.sockets.delete(worker)
      store.get(job)?.leave(worker)
      log.info({ worker, job, why }, 'worker left')
    })
  })

  function handle(socket: WorkerSocket, type: ClientMessageType, raw: unknown): unknown {
    const parsed = ClientMessageSchemas[type].safeParse(raw)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      return reject('ERR_BAD_MESSAGE', `${type}: ${issue.path.join('.') || 'message'}: ${issue.message}`)
    }
    const m = parsed.data as ClientMessage
    if (m.type !== type) return reject('ERR_BAD_MESSAGE', `event ${type} carries a ${m.type} message`)
    if (m.type === 'hello') return hello(socket, m)
    const job = socket.data.job ? store.get(socket.data.job) : undefined
    const worker = socket.data.worker
    if (!job || !worker || !job.members.has(worker)) return reject('ERR_NOT_JOINED', `${type} before hello`)
    const ready = job.members.get(worker)!.ready
    if (!ready && (m.type === 'lease' || m.type === 'update' || m.type === 'shard-done' || m.type === 'resend' || m.type === 'report')) {
      return reject('ERR_NOT_JOINED', `${type} before ready`)
    }
    switch (m.type) {
      case 'signal':
        return job.signal(worker, m)
      case 'ready':
        return ready ? reject('ERR_BAD_MESSAGE', 'ready twice') : job.ready(worker)
      case 'link':
        return job.link(worker, m)
      case 'stats':
        return job.stats(worker, m)
      case 'lease':
        return job.lease(worker)
      case 'update':
        return job.update(worker, m)
      case 'shard-done':
        return job.shardDone(worker, m)
      case 'resend':
        return job.resend(worker, m)
      case 'report':
        return job.report(worker, m)
      default: {
        const unreachable: never = m
        return unreachable
      }
    }
  }

  function hello(socket: WorkerSocket, m: Msg<'hello'>): unknown {
    if (socket.data.worker) return reject('ERR_BAD_MESSAGE', 'hello twice on one connection')
    const job = m.jobId ? store.get(m.jobId) : store.defaultJob()
    if (!job) return reject('ERR_UNKNOWN_JOB', m.jobId ? `no job ${m.jobId}` : 'no job is taking workers right now')
    if (job.state === 'done' || job.state === 'failed') return reject('ERR_JOB_CLOSED', `job ${job.id} is ${job.state}`)
    const worker = `w-${randomBytes(4).toString('hex')}`
    const r = job.hello(worker, m)
    if (r.ok) {
      socket.data.worker = worker
      socket.data.job = job.id
      out.sockets.set(worker, socket)
      log.info({ worker, job: job.id, engine: m.engine, adapter: m.adapter }, 'worker joined')
    }
    return r
  }
}
