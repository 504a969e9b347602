// Binary layout of an update (frame v2: a header and a table of parts) and of a parameter-server aggregate; their
// checking against the job's model; the cutting of frames into ≤16 KiB chunks for data channels. See PROTOCOL.md.
import type { TensorSpec } from '../model/layers/types.ts'
import { FORMS, PATHS, partLength, type Form, type Part, type Path } from '../model/update.ts'
import { asBytes, type Binary } from './bytes.ts'
import { TabgridError } from './errors.ts'
import { CHUNK_BYTES, MAX_BATCH, MAX_UPDATE_BYTES } from './limits.ts'

export const FRAME_VERSION = 2
export const UPDATE_HEADER_BYTES = 16
export const PARTS_HEADER_BYTES = 4
export const PART_ENTRY_BYTES = 4
export const CHUNK_HEADER_BYTES = 8

/** An update's header and its parts. */
export interface RawFrame {
  clock: number
  prev: number
  rows: number
  parts: Part[]
}

/** What a checker demands of a frame's parts. */
export interface PartRules {
  /** Every tensor of the model exactly once (an update to the coordinator), or only `sf` factor parts (peer frames). */
  expect: 'all' | 'sf'
  /** The job's batch: the most rows a frame may have. */
  maxRows: number
}

// ── encoding ───────────────────────────────────────────────────────────────────────────────────────────────────────

/** Bytes of the parts table for these parts: [u16 count][u16 0] + 4 per entry + the floats. */
export function partsBytes(parts: readonly Part[]): number {
  return PARTS_HEADER_BYTES + parts.length * PART_ENTRY_BYTES + parts.reduce((s, p) => s + p.floats.byteLength, 0)
}

/** Writes the parts table at `at` of `out`; returns the offset after it. */
function writeParts(out: Uint8Array, at: number, parts: readonly Part[]): number {
  const dv = new DataView(out.buffer, out.byteOffset, out.byteLength)
  dv.setUint16(at, parts.length, true)
  dv.setUint16(at + 2, 0, true)
  let e = at + PARTS_HEADER_BYTES
  let o = e + parts.length * PART_ENTRY_BYTES
  for (const p of parts) {
    dv.setUint16(e, p.tensor, true)
    dv.setUint8(e + 2, PATHS.indexOf(p.path))
    dv.setUint8(e + 3, FORMS.indexOf(p.form))
    e += PART_ENTRY_BYTES
    out.set(new Uint8Array(p.floats.buffer, p.floats.byteOffset, p.floats.byteLength), o)
    o += p.floats.byteLength
  }
  return o
}

/** An update frame: header (version, clock, prev, rows) then the parts table. */
export function encodeFrame(u: RawFrame): Uint8Array {
  const out = new Uint8Array(UPDATE_HEADER_BYTES + partsBytes(u.parts))
  const dv = new DataView(out.buffer)
  dv.setUint8(0, FRAME_VERSION)
  dv.setUint8(1, 0)
  dv.setUint16(2, 0, true)
  dv.setUint32(4, u.clock, true)
  dv.setInt32(8, u.prev, true)
  dv.setUint32(12, u.rows, true)
  writeParts(out, UPDATE_HEADER_BYTES, u.parts)
  return out
}

/** A parameter-server aggregate: the parts table alone (dense parts, no rows). */
export function encodeParts(parts: readonly Part[]): Uint8Array {
  const out = new Uint8Array(partsBytes(parts))
  writeParts(out, 0, parts)
  return out
}

// ── decoding ───────────────────────────────────────────────────────────────────────────────────────────────────────

/** A part as the table names it, before its floats are cut from the payload. */
export interface PartEntry {
  tensor: number
  path: Path
  form: Form
}

/** A parts table read but not yet checked against a model. */
export interface DecodedParts {
  entries: PartEntry[]
  /** The floats of every part, back to back, in entry order. */
  payload: Uint8Array
}

export interface DecodedFrame extends DecodedParts {
  clock: number
  prev: number
  rows: number
}

type DecodeCode = 'ERR_PEER_FRAME' | 'ERR_BAD_SHAPE'

/** Decodes a frame's header and part table; checkParts cuts the payload against the model. */
export function decodeFrame(binary: Binary, code: DecodeCode = 'ERR_PEER_FRAME'): DecodedFrame {
  const buf = asBytes(binary)
  if (buf.byteLength < UPDATE_HEADER_BYTES + PARTS_HEADER_BYTES) throw new TabgridError(code, `frame of ${buf.byteLength} bytes is shorter than its header`)
  if (buf.byteLength > MAX_UPDATE_BYTES) throw new TabgridError('ERR_TOO_LARGE', `frame of ${buf.byteLength} bytes is over ${MAX_UPDATE_BYTES}`)
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  const version = dv.getUint8(0)
  if (version !== FRAME_VERSION) throw new TabgridError(code, `frame version ${version}, expected ${FRAME_VERSION}`)
  const clock = dv.getUint32(4, true)
  const prev = dv.getInt32(8, true)
  const rows = dv.getUint32(12, true)
  if (clock > 2 ** 31 - 1 || prev < -1 || prev >= clock) throw new TabgridError(code, `bad clock ${clock} / prev ${prev}`)
  if (rows < 1 || rows > MAX_BATCH) throw new TabgridError(code, `rows ${rows} out of range 1..${MAX_BATCH}`)
  return { clock, prev, rows, ...readTable(buf, UPDATE_HEADER_BYTES, code) }
}

/** Decodes an aggregate's parts table. */
export function decodeParts(binary: Binary): DecodedParts {
  const buf = asBytes(binary)
  if (buf.byteLength > MAX_UPDATE_BYTES) throw new TabgridError('ERR_TOO_LARGE', `aggregate of ${buf.byteLength} bytes is over ${MAX_UPDATE_BYTES}`)
  return readTable(buf, 0, 'ERR_BAD_SHAPE')
}

function readTable(buf: Uint8Array, at: number, code: DecodeCode): DecodedParts {
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
  if (buf.byteLength < at + PARTS_HEADER_BYTES) throw new TabgridError(code, 'no parts table')
  const count = dv.getUint16(at, true)
  const table = at + PARTS_HEADER_BYTES
  if (buf.byteLength < table + count * PART_ENTRY_BYTES) throw new TabgridError(code, `${count} parts do not fit in ${buf.byteLength} bytes`)
  const entries: PartEntry[] = []
  for (let i = 0; i < count; i++) {
    const e = table + i * PART_ENTRY_BYTES
    const path = PATHS[dv.getUint8(e + 2)]
    const form = FORMS[dv.getUint8(e + 3)]
    if (!path || !form) throw new TabgridError('ERR_BAD_PATH', `part ${i}: unknown path ${dv.getUint8(e + 2)} or form ${dv.getUint8(e + 3)}`)
    entries.push({ tensor: dv.getUint16(e, true), path, form })
  }
  return { entries, payload: buf.subarray(table + count * PART_ENTRY_BYTES) }
}

/**
 * Checks a decoded table against the model and cuts its floats (copied to aligned memory): known tensors in
 * ascending order without repeats; every tensor for `expect: 'all'`, only factor parts for `expect: 'sf'`, ps parts
 * only for an aggregate; a path and form the tensor allows; exact payload size; finite numbers. `rows` is the
 * frame's batch (unused by dense parts).
 */
export function checkParts(d: DecodedParts, tensors: readonly TensorSpec[], rows: number, rules: PartRules | 'aggregate', code: DecodeCode = 'ERR_BAD_SHAPE'): Part[] {
  if (rules !== 'aggregate' && rows > rules.maxRows) throw new TabgridError('ERR_BAD_SHAPE', `rows ${rows} exceeds the most an update of this job may have, ${rules.maxRows}`)
  if (rules !== 'aggregate' && rules.expect === 'all' && d.entries.length !== tensors.length) {
    throw new TabgridError('ERR_BAD_SHAPE', `${d.entries.length} parts, the model has ${tensors.length} tensors`)
  }
  const parts: Part[] = []
  let o = 0
  let last = -1
  for (const [i, p] of d.entries.entries()) {
    const t = tensors[p.tensor]
    if (!t) throw new TabgridError('ERR_BAD_SHAPE', `part ${i}: unknown tensor ${p.tensor} (the model has ${tensors.length})`)
    if (p.tensor <= last) throw new TabgridError('ERR_BAD_SHAPE', `part ${i}: tensor ${t.name} out of order or repeated`)
    last = p.tensor
    checkPath(t, p.path, p.form, rules)
    const n = partLength(t, p.form, rows)
    if (d.payload.byteLength < o + n * 4) throw new TabgridError(code, `part ${i} (${t.name}): ${p.form} needs ${n} floats, the payload ends first`)
    const floats = new Float32Array(n)
    new Uint8Array(floats.buffer).set(d.payload.subarray(o, o + n * 4))
    for (let k = 0; k < n; k++) if (!Number.isFinite(floats[k])) throw new TabgridError('ERR_NOT_FINITE', `${t.name}: value ${floats[k]} at index ${k}`)
    parts.push({ ...p, floats })
    o += n * 4
  }
  if (o !== d.payload.byteLength) throw new TabgridError(code, `${d.payload.byteLength - o} bytes after the last part`)
  return parts
}

function checkPath(t: TensorSpec, path: Path, form: Form, rules: PartRules | 'aggregate'): void {
  const legal = path === 'sf' ? form === 'factors' && t.factorable : form === 'dense'
  if (!legal) throw new TabgridError('ERR_BAD_PATH', `${t.name}: path ${path} with form ${form} is not allowed${t.factorable ? '' : ' (this tensor always goes ps, dense)'}`)
  if (rules === 'aggregate' && path !== 'ps') throw new TabgridError('ERR_BAD_PATH', `${t.name}: an aggregate holds ps parts only`)
  if (rules !== 'aggregate' && rules.expect === 'sf' && path !== 'sf') throw new TabgridError('ERR_BAD_PATH', `${t.name}: a peer frame holds sf parts only`)
}

/** Decodes and checks a whole frame against the model in one go. */
export function readFrame(binary: Binary, tensors: readonly TensorSpec[], rules: PartRules, code: DecodeCode = 'ERR_BAD_SHAPE'): RawFrame {
  const d = decodeFrame(binary, code)
  return { clock: d.clock, prev: d.prev, rows: d.rows, parts: checkParts(d, tensors, d.rows, rules, code) }
}

/** Decodes and checks an aggregate against the model. */
export function readAggregate(binary: Binary, tensors: readonly TensorSpec[]): Part[] {
  return checkParts(decodeParts(binary), tensors, 0, 'aggregate')
}

// ── chunks ─────────────────────────────────────────────────────────────────────────────────────────────────────────

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

  constructor(private readonly maxBytes = MAX_UPDATE_BYTES) {}

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
