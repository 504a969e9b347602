// Binary layout of an update on a WebRTC data channel, and its cutting into ≤16 KiB chunks (see PROTOCOL.md).
import { asBytes, type Binary } from './bytes.ts'
import { TabgridError } from './errors.ts'
import { CHUNK_BYTES, MAX_BATCH, MAX_UPDATE_BYTES } from './limits.ts'

export const FRAME_VERSION = 1
export const UPDATE_HEADER_BYTES = 16
export const CHUNK_HEADER_BYTES = 8
const FORMS = ['factors', 'dense'] as const

/** An update as it travels peer to peer; the sender is the channel's peer, never a field. */
export interface UpdateFrame {
  clock: number
  prev: number
  form: 'factors' | 'dense'
  rows: number
  payload: Uint8Array
}

/** The payload size (bytes) an update of this form must have for a K×J model. */
export function payloadBytes(form: UpdateFrame['form'], rows: number, K: number, J: number): number {
  return form === 'factors' ? rows * (K + J) * 4 : (K * J + K) * 4
}

export function encodeUpdate(u: UpdateFrame): Uint8Array {
  const out = new Uint8Array(UPDATE_HEADER_BYTES + u.payload.byteLength)
  const dv = new DataView(out.buffer)
  dv.setUint8(0, FRAME_VERSION)
  dv.setUint8(1, u.form === 'factors' ? 0 : 1)
  dv.setUint16(2, 0, true)
  dv.setUint32(4, u.clock, true)
  dv.setInt32(8, u.prev, true)
  dv.setUint32(12, u.rows, true)
  out.set(u.payload, UPDATE_HEADER_BYTES)
  return out
}

/** Decodes and checks a frame's header; the payload's shape is checked against the job by validateUpdatePayload. */
export function decodeUpdate(buf: Uint8Array): UpdateFrame {
  if (buf.byteLength < UPDATE_HEADER_BYTES) throw new TabgridError('ERR_PEER_FRAME', `frame of ${buf.byteLength} bytes is shorter than its header`)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const version = dv.getUint8(0)
  if (version !== FRAME_VERSION) throw new TabgridError('ERR_PEER_FRAME', `frame version ${version}, expected ${FRAME_VERSION}`)
  const form = FORMS[dv.getUint8(1)]
  if (!form) throw new TabgridError('ERR_PEER_FRAME', `unknown update form ${dv.getUint8(1)}`)
  const clock = dv.getUint32(4, true)
  const prev = dv.getInt32(8, true)
  const rows = dv.getUint32(12, true)
  if (clock > 2 ** 31 - 1 || prev < -1 || prev >= clock) throw new TabgridError('ERR_PEER_FRAME', `bad clock ${clock} / prev ${prev}`)
  if (rows < 1 || rows > MAX_BATCH) throw new TabgridError('ERR_PEER_FRAME', `rows ${rows} out of range 1..${MAX_BATCH}`)
  return { clock, prev, form, rows, payload: buf.subarray(UPDATE_HEADER_BYTES) }
}

/** Checks an update's payload against the model: exact size, every number finite. Returns it as floats. */
export function validateUpdatePayload(
  form: UpdateFrame['form'],
  rows: number,
  binary: Binary,
  K: number,
  J: number,
  maxRows: number,
): Float32Array {
  const payload = asBytes(binary)
  if (rows > maxRows) throw new TabgridError('ERR_BAD_SHAPE', `rows ${rows} exceeds the job's batch ${maxRows}`)
  const want = payloadBytes(form, rows, K, J)
  if (payload.byteLength !== want) {
    throw new TabgridError('ERR_BAD_SHAPE', `${form} payload of ${payload.byteLength} bytes, expected ${want} for rows=${rows}, K=${K}, J=${J}`)
  }
  // Copy to an aligned buffer: socket.io and chunk reassembly may hand us views at odd offsets.
  const floats = new Float32Array(want / 4)
  new Uint8Array(floats.buffer).set(payload)
  for (let i = 0; i < floats.length; i++) {
    if (!Number.isFinite(floats[i])) throw new TabgridError('ERR_NOT_FINITE', `value ${floats[i]} at index ${i}`)
  }
  return floats
}

/** Cuts one message into chunks of at most CHUNK_BYTES: [u32 id][u16 index][u16 count] + data. */
export function toChunks(id: number, msg: Uint8Array, chunkBytes = CHUNK_BYTES): Uint8Array[] {
  const body = chunkBytes - CHUNK_HEADER_BYTES
  const count = Math.max(1, Math.ceil(msg.byteLength / body))
  if (count > 0xffff) throw new TabgridError('ERR_TOO_LARGE', `message of ${msg.byteLength} bytes needs ${count} chunks`)
  const out: Uint8Array[] = []
  for (let i = 0; i < count; i++) {
    const part = msg.subarray(i * body, Math.min(msg.byteLength, (i + 1) * body))
    const c = new Uint8Array(CHUNK_HEADER_BYTES + part.byteLength)
    const dv = new DataView(c.buffer)
    dv.setUint32(0, id >>> 0, true)
    dv.setUint16(4, i, true)
    dv.setUint16(6, count, true)
    c.set(part, CHUNK_HEADER_BYTES)
    out.push(c)
  }
  return out
}

/**
 * Reassembles chunks from one ordered, reliable channel. A chunk out of sequence, a message over the size bound or a
 * malformed header throws ERR_PEER_FRAME and drops the partial message; the next message starts clean.
 */
export class Reassembler {
  private id = -1
  private count = 0
  private parts: Uint8Array[] = []
  private size = 0

  constructor(private readonly maxBytes = MAX_UPDATE_BYTES + UPDATE_HEADER_BYTES) {}

  /** Feeds one chunk; returns the whole message when its last chunk arrives. */
  push(chunk: Uint8Array): Uint8Array | undefined {
    if (chunk.byteLength < CHUNK_HEADER_BYTES) return this.fail(`chunk of ${chunk.byteLength} bytes`)
    const dv = new DataView(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const id = dv.getUint32(0, true)
    const index = dv.getUint16(4, true)
    const count = dv.getUint16(6, true)
    if (count === 0 || index >= count) return this.fail(`chunk index ${index} of ${count}`)
    if (index === 0) {
      this.id = id
      this.count = count
      this.parts = []
      this.size = 0
    } else if (id !== this.id || count !== this.count || index !== this.parts.length) {
      return this.fail(`chunk ${id}/${index} out of sequence (expected ${this.id}/${this.parts.length})`)
    }
    const data = chunk.subarray(CHUNK_HEADER_BYTES)
    this.size += data.byteLength
    if (this.size > this.maxBytes) return this.fail(`message exceeds ${this.maxBytes} bytes`)
    this.parts.push(data)
    if (this.parts.length < this.count) return undefined
    const out = new Uint8Array(this.size)
    let o = 0
    for (const p of this.parts) {
      out.set(p, o)
      o += p.byteLength
    }
    this.reset()
    return out
  }

  private reset(): void {
    this.id = -1
    this.count = 0
    this.parts = []
    this.size = 0
  }

  private fail(why: string): never {
    this.reset()
    throw new TabgridError('ERR_PEER_FRAME', why)
  }
}
