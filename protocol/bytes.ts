// Binary as socket.io hands it over: a Buffer (a Uint8Array) in Node, an ArrayBuffer in browsers; f32/u32 values
// read from it (a Lasso message's residuals, β and column indices) and written back.
import { TabgridError } from './errors.ts'

export type Binary = Uint8Array | ArrayBuffer

export function asBytes(b: Binary): Uint8Array {
  return b instanceof Uint8Array ? b : new Uint8Array(b)
}

/**
 * Many binaries as one, each behind its u32 byte length (little-endian): socket.io sends a binary as one attachment,
 * and its decoders refuse a packet of more than a few, so a list of frames travels packed.
 *
 * @example
 * unpackBinaries(packBinaries([a, b])) // [a, b] (copies)
 */
export function packBinaries(list: readonly Binary[]): Uint8Array {
  const items = list.map(asBytes)
  const out = new Uint8Array(items.reduce((s, b) => s + 4 + b.byteLength, 0))
  const dv = new DataView(out.buffer)
  let at = 0
  for (const b of items) {
    dv.setUint32(at, b.byteLength, true)
    out.set(b, at + 4)
    at += 4 + b.byteLength
  }
  return out
}

/** The binaries `packBinaries` joined; throws a RangeError on a length that runs past the end. */
export function unpackBinaries(packed: Binary): Uint8Array[] {
  const bytes = asBytes(packed)
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const out: Uint8Array[] = []
  for (let at = 0; at < bytes.byteLength; ) {
    if (at + 4 > bytes.byteLength) throw new RangeError('packed binaries: a cut length')
    const n = dv.getUint32(at, true)
    if (at + 4 + n > bytes.byteLength) throw new RangeError(`packed binaries: ${n} bytes past the end`)
    out.push(bytes.subarray(at + 4, at + 4 + n))
    at += 4 + n
  }
  return out
}

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
