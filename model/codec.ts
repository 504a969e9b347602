// A model's parameters as bytes: W (K×J, row-major) then b (K), little-endian f32. Snapshots and downloads use it.
import type { MlrDims, MlrParams } from './mlr.ts'

export function encodeParams(p: MlrParams): Uint8Array {
  return concatFloats(p.W, p.b)
}

/** Two float arrays back to back, as bytes: a model (W, b), a factors payload (U, V), a dense one (dW, db). */
export function concatFloats(a: Float32Array, b: Float32Array): Uint8Array {
  const out = new Float32Array(a.length + b.length)
  out.set(a)
  out.set(b, a.length)
  return new Uint8Array(out.buffer)
}

export function decodeParams({ K, J }: MlrDims, bytes: Uint8Array): MlrParams {
  if (bytes.byteLength !== (K * J + K) * 4) throw new Error(`model of ${bytes.byteLength} bytes, expected ${(K * J + K) * 4} for K=${K}, J=${J}`)
  const all = new Float32Array(K * J + K)
  new Uint8Array(all.buffer).set(bytes)
  return { W: all.subarray(0, K * J), b: all.subarray(K * J) }
}
