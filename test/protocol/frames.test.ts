import { describe, expect, it } from 'vitest'
import { TabgridError } from '../../protocol/errors.ts'
import { decodeUpdate, encodeUpdate, Reassembler, toChunks, validateUpdatePayload, CHUNK_HEADER_BYTES } from '../../protocol/frames.ts'
import { CHUNK_BYTES } from '../../protocol/limits.ts'
import { mulberry32, randomFloats } from '../helpers/random.ts'

const K = 10
const J = 784

function frame(rows: number, form: 'factors' | 'dense' = 'factors') {
  const n = form === 'factors' ? rows * (K + J) : K * J + K
  const f = randomFloats(mulberry32(rows), n)
  return { clock: 41, prev: 40, form, rows, payload: new Uint8Array(f.buffer) } as const
}

function code(fn: () => unknown): string {
  try {
    fn()
  } catch (e) {
    return (e as TabgridError).code
  }
  return 'none'
}

describe('update frames', () => {
  it('round-trip through chunks of at most 16 KiB', () => {
    for (const u of [frame(1), frame(8), frame(5, 'dense')]) {
      const chunks = toChunks(7, encodeUpdate(u))
      expect(chunks.every((c) => c.byteLength <= CHUNK_BYTES)).toBe(true)
      const r = new Reassembler()
      let out: Uint8Array | undefined
      chunks.forEach((c, i) => {
        out = r.push(c)
        if (i < chunks.length - 1) expect(out).toBeUndefined()
      })
      const d = decodeUpdate(out!)
      expect(d).toMatchObject({ clock: 41, prev: 40, form: u.form, rows: u.rows })
      expect(Array.from(d.payload)).toEqual(Array.from(u.payload))
    }
  })

  it('reject malformed headers with ERR_PEER_FRAME', () => {
    const good = encodeUpdate(frame(2))
    expect(code(() => decodeUpdate(good.subarray(0, 10)))).toBe('ERR_PEER_FRAME')
    const badVersion = good.slice()
    badVersion[0] = 9
    expect(code(() => decodeUpdate(badVersion))).toBe('ERR_PEER_FRAME')
    const badForm = good.slice()
    badForm[1] = 7
    expect(code(() => decodeUpdate(badForm))).toBe('ERR_PEER_FRAME')
    const badPrev = good.slice()
    new DataView(badPrev.buffer).setInt32(8, 41, true) // prev must be < clock
    expect(code(() => decodeUpdate(badPrev))).toBe('ERR_PEER_FRAME')
    const zeroRows = good.slice()
    new DataView(zeroRows.buffer).setUint32(12, 0, true)
    expect(code(() => decodeUpdate(zeroRows))).toBe('ERR_PEER_FRAME')
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

  it('payload validation checks exact size, batch bound and finiteness', () => {
    const u = frame(3)
    expect(validateUpdatePayload('factors', 3, u.payload, K, J, 8)).toHaveLength(3 * (K + J))
    expect(code(() => validateUpdatePayload('factors', 4, u.payload, K, J, 8))).toBe('ERR_BAD_SHAPE')
    expect(code(() => validateUpdatePayload('dense', 3, u.payload, K, J, 8))).toBe('ERR_BAD_SHAPE')
    expect(code(() => validateUpdatePayload('factors', 3, u.payload, K, J, 2))).toBe('ERR_BAD_SHAPE')
    const nan = new Float32Array(3 * (K + J))
    nan[17] = NaN
    expect(code(() => validateUpdatePayload('factors', 3, new Uint8Array(nan.buffer), K, J, 8))).toBe('ERR_NOT_FINITE')
    nan[17] = Infinity
    expect(code(() => validateUpdatePayload('factors', 3, new Uint8Array(nan.buffer), K, J, 8))).toBe('ERR_NOT_FINITE')
    // an odd byte offset (as socket.io may deliver) still decodes
    const odd = new Uint8Array(u.payload.byteLength + 1)
    odd.set(u.payload, 1)
    expect(validateUpdatePayload('factors', 3, odd.subarray(1), K, J, 8)[5]).toBe(new Float32Array(u.payload.buffer)[5])
  })
})
