// Binary layout of a shard served over HTTP: [u32 n][u32 J] then n×J f32 features, then n u8 labels (little-endian).
import { TabgridError } from './errors.ts'

export const SHARD_HEADER_BYTES = 8

export function encodeShard(x: Float32Array, y: Uint8Array, n: number, J: number): Uint8Array {
  const out = new Uint8Array(SHARD_HEADER_BYTES + n * J * 4 + n)
  const dv = new DataView(out.buffer)
  dv.setUint32(0, n, true)
  dv.setUint32(4, J, true)
  out.set(new Uint8Array(x.buffer, x.byteOffset, n * J * 4), SHARD_HEADER_BYTES)
  out.set(y.subarray(0, n), SHARD_HEADER_BYTES + n * J * 4)
  return out
}

/** Decodes a shard and checks it against the job: feature count, exact length, finite features, labels < K. */
export function decodeShard(buf: ArrayBuffer, J: number, K: number): { n: number; x: Float32Array; y: Uint8Array } {
  if (buf.byteLength < SHARD_HEADER_BYTES) throw new TabgridError('ERR_BAD_SHAPE', `shard of ${buf.byteLength} bytes`)
  const dv = new DataView(buf)
  const n = dv.getUint32(0, true)
  const j = dv.getUint32(4, true)
  if (j !== J) throw new TabgridError('ERR_BAD_SHAPE', `shard has ${j} features, the job ${J}`)
  if (buf.byteLength !== SHARD_HEADER_BYTES + n * J * 4 + n) throw new TabgridError('ERR_BAD_SHAPE', `shard length ${buf.byteLength} does not fit n=${n}`)
  const x = new Float32Array(buf.slice(SHARD_HEADER_BYTES, SHARD_HEADER_BYTES + n * J * 4))
  const y = new Uint8Array(buf, SHARD_HEADER_BYTES + n * J * 4, n)
  for (let i = 0; i < x.length; i++) if (!Number.isFinite(x[i])) throw new TabgridError('ERR_NOT_FINITE', `shard feature ${i}`)
  for (let i = 0; i < n; i++) if (y[i] >= K) throw new TabgridError('ERR_BAD_SHAPE', `label ${y[i]} ≥ ${K} classes`)
  return { n, x, y }
}
