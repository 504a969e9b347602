// Building and cutting splits: rows picked by index, a prefix, bytes to [0, 1].
import type { Split } from './types.ts'

/** The rows `idx` of x (rows of J values) and y, in that order, copied. */
export function takeRows(x: Float32Array, y: Uint8Array, J: number, idx: ArrayLike<number>): Split {
  const n = idx.length
  const ox = new Float32Array(n * J)
  const oy = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const r = idx[i]
    ox.set(x.subarray(r * J, (r + 1) * J), i * J)
    oy[i] = y[r]
  }
  return { n, x: ox, y: oy }
}

/** The first n rows of a split, copied (so the rest can be freed); the split itself when it has no more. */
export function headRows(s: Split, J: number, n: number): Split {
  if (n >= s.n) return s
  return { n, x: s.x.slice(0, n * J), y: s.y.slice(0, n) }
}

const BYTE_TO_UNIT = Float32Array.from({ length: 256 }, (_, v) => v / 255)

/** Pixel bytes 0..255 → float32 in [0, 1]. */
export function bytesToUnit(bytes: Uint8Array): Float32Array {
  const out = new Float32Array(bytes.length)
  for (let i = 0; i < bytes.length; i++) out[i] = BYTE_TO_UNIT[bytes[i]]
  return out
}
