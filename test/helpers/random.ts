// Seeded randomness for reproducible tests (the same generator as the built-in dataset's).
export { mulberry32 } from '../../coordinator/data/random.ts'

export function randomFloats(rand: () => number, n: number, scale = 1): Float32Array {
  const out = new Float32Array(n)
  for (let i = 0; i < n; i++) out[i] = (rand() * 2 - 1) * scale
  return out
}
