// Frames v2: a header and a table of parts, checked against the model; aggregates; chunks for data channels.
import { describe, expect, it } from 'vitest'
import { planModel } from '../../model/plan.ts'
import { presetSpec } from '../../model/spec.ts'
import type { Part } from '../../model/update.ts'
import { TabgridError } from '../../protocol/errors.ts'
import {
  CHUNK_HEADER_BYTES,
  decodeFrame,
  encodeFrame,
  encodeParts,
  readAggregate,
  readFrame,
  Reassembler,
  toChunks,
  UPDATE_HEADER_BYTES,
} from '../../protocol/frames.ts'
import { CHUNK_BYTES } from '../../protocol/limits.ts'
import { mulberry32 } from '../helpers/random.ts'
import { randomParts } from '../helpers/tiny-data.ts'

const plan = planModel(presetSpec('mlp:16', 10), { features: 784, classes: 10, imageShape: [28, 28] })
const paths = ['sf', 'ps', 'ps', 'ps'] as const
const rand = mulberry32(5)

function parts(rows: number): Part[] {
  return randomParts(plan, [...paths], rows, rand)
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    return (e as TabgridError).code
  }
  return 'none'
}

describe('update frames v2', () => {
  it('round-trip a whole update through chunks of at most 16 KiB, floats intact', () => {
    const p = parts(8)
    const bytes = encodeFrame({ clock: 41, prev: 40, rows: 8, parts: p })
    expect(bytes.byteLength).toBe(UPDATE_HEADER_BYTES + 4 + 4 * p.length + p.reduce((s, q) => s + q.floats.byteLength, 0))
    const chunks = toChunks(7, bytes)
    expect(chunks.length).toBeGreaterThan(1)
    expect(chunks.every((c) => c.byteLength <= CHUNK_BYTES)).toBe(true)
    const r = new Reassembler()
    let out: Uint8Array | undefined
    chunks.forEach((c, i) => {
      out = r.push(c)
      if (i < chunks.length - 1) expect(out).toBeUndefined()
    })
    const f = readFrame(out!, plan.tensors, { expect: 'all', maxRows: 8 })
    expect({ clock: f.clock, prev: f.prev, rows: f.rows }).toEqual({ clock: 41, prev: 40, rows: 8 })
    expect(f.parts.map((q) => [q.tensor, q.path, q.form])).toEqual(p.map((q) => [q.tensor, q.path, q.form]))
    for (const [i, q] of f.parts.entries()) expect(q.floats).toEqual(p[i].floats)
  })

  it('a peer frame carries the sf parts only; a frame with no parts is legal (it keeps the chain)', () => {
    const p = parts(3)
    const sf = readFrame(encodeFrame({ clock: 2, prev: 1, rows: 3, parts: [p[0]] }), plan.tensors, { expect: 'sf', maxRows: 8 })
    expect(sf.parts.map((q) => q.tensor)).toEqual([0])
    expect(readFrame(encodeFrame({ clock: 2, prev: 1, rows: 3, parts: [] }), plan.tensors, { expect: 'sf', maxRows: 8 }).parts).toEqual([])
    expect(code(() => readFrame(encodeFrame({ clock: 2, prev: 1, rows: 3, parts: p.slice(0, 2) }), plan.tensors, { expect: 'sf', maxRows: 8 }))).toBe('ERR_BAD_PATH')
  })

  it('reject malformed headers with the caller’s code', () => {
    const good = encodeFrame({ clock: 41, prev: 40, rows: 2, parts: parts(2) })
    expect(code(() => decodeFrame(good.subarray(0, 10)))).toBe('ERR_PEER_FRAME')
    const badVersion = good.slice()
    badVersion[0] = 1
    expect(code(() => decodeFrame(badVersion))).toBe('ERR_PEER_FRAME')
    expect(code(() => decodeFrame(badVersion, 'ERR_BAD_SHAPE'))).toBe('ERR_BAD_SHAPE')
    const badPrev = good.slice()
    new DataView(badPrev.buffer).setInt32(8, 41, true) // prev must be < clock
    expect(code(() => decodeFrame(badPrev))).toBe('ERR_PEER_FRAME')
    const zeroRows = good.slice()
    new DataView(zeroRows.buffer).setUint32(12, 0, true)
    expect(code(() => decodeFrame(zeroRows))).toBe('ERR_PEER_FRAME')
    const tooManyParts = good.slice()
    new DataView(tooManyParts.buffer).setUint16(16, 60000, true)
    expect(code(() => decodeFrame(tooManyParts))).toBe('ERR_PEER_FRAME')
  })

  it('parts are checked against the model: count, tensor, order, path, size, finiteness; odd offsets decode', () => {
    const p = parts(3)
    const read = (q: Part[], rows = 3) => readFrame(encodeFrame({ clock: 1, prev: 0, rows, parts: q }), plan.tensors, { expect: 'all', maxRows: 4 })
    expect(read(p).parts).toHaveLength(4)
    expect(code(() => read(p.slice(1)))).toBe('ERR_BAD_SHAPE')
    expect(code(() => read([p[0], p[1], p[2], { ...p[3], tensor: 4 }]))).toBe('ERR_BAD_SHAPE')
    expect(code(() => read([p[1], p[0], p[2], p[3]]))).toBe('ERR_BAD_SHAPE')
    expect(code(() => read([p[0], { ...p[1], path: 'sf' }, p[2], p[3]]))).toBe('ERR_BAD_PATH')
    expect(code(() => read(p, 5))).toBe('ERR_BAD_SHAPE')
    const nan = parts(3)
    nan[3].floats[2] = Infinity
    expect(code(() => read(nan))).toBe('ERR_NOT_FINITE')
    const bytes = encodeFrame({ clock: 1, prev: 0, rows: 3, parts: p })
    const odd = new Uint8Array(bytes.byteLength + 1)
    odd.set(bytes, 1)
    expect(readFrame(odd.subarray(1), plan.tensors, { expect: 'all', maxRows: 4 }).parts[0].floats).toEqual(p[0].floats)
    const extra = new Uint8Array(bytes.byteLength + 4)
    extra.set(bytes)
    expect(code(() => readFrame(extra, plan.tensors, { expect: 'all', maxRows: 4 }))).toBe('ERR_BAD_SHAPE')
  })

  it('aggregates hold dense ps parts only', () => {
    const p = parts(2)
    const agg = encodeParts(p.slice(1))
    expect(readAggregate(agg, plan.tensors).map((q) => q.tensor)).toEqual([1, 2, 3])
    expect(code(() => readAggregate(encodeParts(p), plan.tensors))).toBe('ERR_BAD_PATH')
  })

  it('reassembly refuses chunks out of sequence and oversized messages, then recovers', () => {
    const chunks = toChunks(1, new Uint8Array(50_000).fill(7))
    expect(chunks.length).toBe(4)
    const r = new Reassembler()
    r.push(chunks[0])
    expect(code(() => r.push(chunks[2]))).toBe('ERR_PEER_FRAME')
    expect(code(() => r.push(new Uint8Array(3)))).toBe('ERR_PEER_FRAME')
    let out: Uint8Array | undefined
    for (const c of chunks) out = r.push(c)
    expect(out).toBeDefined()
    const small = new Reassembler(100)
    expect(code(() => toChunks(2, new Uint8Array(500), 64).forEach((c) => small.push(c)))).toBe('ERR_PEER_FRAME')
    const header = new Uint8Array(CHUNK_HEADER_BYTES)
    new DataView(header.buffer).setUint16(6, 0, true)
    expect(code(() => r.push(header))).toBe('ERR_PEER_FRAME')
  })
})
