// Reading one connection: yield to the event loop after many messages in a turn; cut a flooder off unread.
import type { Duplex } from 'node:stream'

/** Messages one connection may have handled before it stops being read until the event loop's next turn. */
export const MESSAGES_PER_TURN = 64
/**
 * How long a cut-off connection has to take its last words (the eviction) before its TCP socket is destroyed. The
 * destroy resets the connection, and a reset makes the peer's kernel drop what its program has not read yet: a client
 * busy sending (a flood in a loop, a loaded machine) lost its eviction at 100 ms. A paused socket costs only kernel
 * buffers meanwhile.
 */
export const CUT_OFF_GRACE_MS = 2000

/**
 * Per connection, around its TCP socket. socket.io hands a connection's messages over in bursts (every frame of
 * every TCP chunk read in one go): `handled()` pauses reading after MESSAGES_PER_TURN of them until the next turn, so
 * one connection's backlog never holds up the others or the API for long. `cutOff()` closes a flooder without reading
 * what it still sends (a plain disconnect lets ws parse every queued frame until the close handshake ends).
 *
 * @example
 * const flow = new ReadFlow(socket.conn.request.socket)
 * flow.handled()                                         // on every message
 * flow.cutOff(() => { socket.emit('evicted', why); socket.disconnect(true) })
 */
export class ReadFlow {
  private thisTurn = 0

  constructor(private readonly tcp: Duplex) {}

  handled(): void {
    if (++this.thisTurn !== MESSAGES_PER_TURN) return
    this.tcp.pause()
    setImmediate(() => {
      this.thisTurn = 0
      if (!this.tcp.destroyed) this.tcp.resume()
    })
  }

  /** Stops reading, lets `lastWords` write (the reason, a close), then destroys the TCP socket. */
  cutOff(lastWords: () => void): void {
    this.tcp.pause()
    lastWords()
    setTimeout(() => this.tcp.destroy(), CUT_OFF_GRACE_MS).unref()
  }
}
