// The worker's socket.io link to the coordinator: typed requests with deadlines, typed pushed events.
import type { Socket } from 'socket.io-client'
import { TabgridError, type Rejection } from '../../protocol/errors.ts'
import type { ClientEvents, ClientMessageType, Msg, Replies, ServerEvents } from '../../protocol/messages.ts'

/** How long a request may wait for its ack before it fails with ERR_TIMEOUT. */
export const REQUEST_TIMEOUT_MS = 15_000

export type WorkerSocket = Socket<ServerEvents, ClientEvents>

/**
 * Wraps an injected socket.io-client socket.
 *
 * @example
 * const c = new CoordinatorLink(io(url))
 * const hello = await c.request('hello', { type: 'hello', engine: 'webgpu' })
 */
export class CoordinatorLink {
  /** Bytes of update frames this worker uploaded. */
  sentBytes = 0

  constructor(readonly socket: WorkerSocket) {}

  /** Sends one message and resolves with its success reply; a rejection or a timeout throws a TabgridError. */
  async request<T extends ClientMessageType>(type: T, msg: Msg<T>, timeoutMs = REQUEST_TIMEOUT_MS): Promise<Replies[T]> {
    this.count(msg)
    const timed = this.socket.timeout(timeoutMs) as unknown as { emitWithAck(t: T, m: Msg<T>): Promise<Replies[T] | Rejection> }
    let reply: Replies[T] | Rejection
    try {
      reply = await timed.emitWithAck(type, msg)
    } catch (e) {
      // socket.io rejects on a timeout, and on a disconnect for every request still pending
      throw new TabgridError('ERR_TIMEOUT', `${type}: no answer within ${timeoutMs} ms (${(e as Error).message})`)
    }
    if (!reply.ok) throw new TabgridError(reply.code, reply.reason)
    return reply
  }

  /**
   * Sends one message without asking for an answer: the coordinator answers only a refusal, as a `rejected` event
   * (one socket.io packet fewer each way for the message a worker sends every clock).
   */
  send<T extends ClientMessageType>(type: T, msg: Msg<T>): void {
    this.count(msg)
    ;(this.socket.emit as (t: T, m: Msg<T>) => void)(type, msg)
  }

  private count(msg: Msg<ClientMessageType>): void {
    if (msg.type === 'update') this.sentBytes += msg.frame.byteLength
  }

  on<E extends keyof ServerEvents>(event: E, fn: ServerEvents[E]): void {
    ;(this.socket.on as (e: E, f: ServerEvents[E]) => void)(event, fn)
  }

  /** The socket dropped (not by close()): every pending request has failed already. */
  onDisconnect(fn: (why: string) => void): void {
    this.socket.on('disconnect', (why) => {
      if (why !== 'io client disconnect') fn(why)
    })
  }

  close(): void {
    this.socket.disconnect()
  }
}
