// socket.io's packet decoder with bounds: what one connection can make the coordinator hold while a packet arrives.
//
// socket.io-parser reassembles a binary packet in memory: a text header announces N attachments and a
// BinaryReconstructor keeps every binary message that follows until N have come (by default up to 10, each up to
// engine.io's maxHttpBufferSize). Over websocket, ws holds at most one message (≤ maxHttpBufferSize) while it
// arrives. So a connection holds at most: one message in ws + the attachments parked here. Our protocol needs one
// attachment (an update's frame) and short text packets: this decoder refuses anything more, which closes the
// connection (socket.io's Client treats a throwing decoder as a protocol violation) before anything is parked.
// It also caps the raw packet rate of a connection: packets no message handler sees (acks, unknown namespaces)
// cost too, and a flood of them is cut off here.
import { Decoder, Encoder } from 'socket.io-parser'
import { TokenBucket } from './rate-limit.ts'

export interface PacketBounds {
  /** Binary attachments one packet may announce. */
  maxAttachments: number
  /** Longest text packet, in characters. */
  maxTextChars: number
  /** Largest binary attachment, in bytes. */
  maxBinaryBytes: number
  /** Packets (text or binary) a connection may send per second, and in one burst; over them it is closed. */
  packetsPerSecond: number
  packetBurst: number
}

/** Thrown by the decoder; the connection closes, the socket's `error` listener sees it. */
export class PacketBoundError extends Error {
  override name = 'PacketBoundError'
}

function byteLength(obj: unknown): number {
  if (obj instanceof ArrayBuffer || ArrayBuffer.isView(obj)) return obj.byteLength
  const b64 = (obj as { base64?: boolean; data?: unknown } | null)?.base64 ? (obj as { data?: unknown }).data : undefined
  return typeof b64 === 'string' ? Math.floor((b64.length * 3) / 4) : 0
}

/**
 * A parser for socket.io's Server `parser` option: the default encoder, a decoder that refuses packets over `bounds`.
 *
 * @example
 * new Server(http, { parser: boundedParser({ maxAttachments: 1, maxTextChars: 131072, maxBinaryBytes: 32 << 20, packetsPerSecond: 10_000, packetBurst: 4_000 }) })
 */
export function boundedParser(bounds: PacketBounds): { Encoder: typeof Encoder; Decoder: typeof Decoder } {
  class BoundedDecoder extends Decoder {
    private readonly packets = new TokenBucket(bounds.packetsPerSecond, bounds.packetBurst)

    constructor() {
      super({ maxAttachments: bounds.maxAttachments })
    }

    override add(obj: unknown): void {
      if (!this.packets.take(1)) throw new PacketBoundError(`over ${bounds.packetsPerSecond} packets a second`)
      if (typeof obj === 'string') {
        if (obj.length > bounds.maxTextChars) throw new PacketBoundError(`a text packet of ${obj.length} characters, over ${bounds.maxTextChars}`)
      } else if (byteLength(obj) > bounds.maxBinaryBytes) {
        throw new PacketBoundError(`a binary attachment of ${byteLength(obj)} bytes, over ${bounds.maxBinaryBytes}`)
      }
      super.add(obj)
    }
  }
  return { Encoder, Decoder: BoundedDecoder }
}
