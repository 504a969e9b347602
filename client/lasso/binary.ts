// Reading a Lasso message's binaries (f32 residuals and values, u32 column indices) as typed arrays, and back.
import { asBytes, type Binary } from '../../protocol/bytes.ts'
import { TabgridError } from '../../protocol/errors.ts'

/** The bytes as 4-byte words: a view where they are aligned (a browser's ArrayBuffer), else a copy (a Node Buffer). */
function words(b: Binary, what: string, length?: number): ArrayBuffer {
  const u8 = asBytes(b)
  if (u8.byteLength % 4 !== 0) throw new TabgridError('ERR_BAD_MESSAGE', `${what}: ${u8.byteLength} bytes are not whole 4-byte values`)
  if (length !== undefined && u8.byteLength !== 4 * length) {
    throw new TabgridError('ERR_BAD_SHAPE', `${what}: ${u8.byteLength / 4} values, expected ${length}`)
  }
  const whole = u8.byteOffset === 0 && u8.byteLength === u8.buffer.byteLength && u8.buffer instanceof ArrayBuffer
  // a copy through the constructor: a Node Buffer's slice() is a view into its pool
  return whole ? (u8.buffer as ArrayBuffer) : new Uint8Array(u8).buffer
}

/**
 * f32 little-endian values (`length` of them, where given; a TabgridError otherwise).
 *
 * @example
 * f32(msg.dr, 'lasso-round dr', n) // Float32Array of n
 */
export function f32(b: Binary, what: string, length?: number): Float32Array {
  return new Float32Array(words(b, what, length))
}

/** u32 little-endian values. */
export function u32(b: Binary, what: string, length?: number): Uint32Array {
  return new Uint32Array(words(b, what, length))
}

/** A typed array's own bytes, for a message. */
export function bytesOf(a: Float32Array | Uint32Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength)
}
