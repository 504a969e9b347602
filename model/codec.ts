// A model's parameters as bytes: W (K×J, row-major) then b (K), little-endian f32. Snapshots and downloads use it.
import type { MlrDims, MlrParams } from './mlr.ts'

export function encodeParams(p: MlrParams): Uint8Array {
  const out = new Uint8Array((p.W.length + p.b.length) * 4)
  out.set(new Uint8Array(p.W.buffer, p.W.byteOffset, p.W.byteLength), 0)
  out.set(new Uint8Array(p.b.buffer, p.b.byteOffset, p.b.byteLength), p.W.byteLength)
  return out
}

export function decodeParams({ K, J }: MlrDims, bytes: Uint8Array): MlrParams {
  if (bytes.byteLength !== (K * J + K) * 4) throw new Error(`model of ${bytes.byteLength} bytes, expected ${(K * J + K) * 4} for K=${K}, J=${J}`)
  const all = new Float32Array(K * J + K)
  new Uint8Array(all.buffer).set(bytes)
  return { W: all.subarray(0, K * J), b: all.subarray(K * J) }
}
