// Scaling features the way users expect: pixel bytes to [0, 1], anything else to zero mean and unit variance.
import type { Preprocessing } from './types.ts'

/**
 * Scales train and test features (rows of J values) in place. When every value is an integer in [0, 255] and some
 * value exceeds 1, they are pixels and are divided by 255; otherwise each feature is standardised with the train
 * split's mean and standard deviation (a constant feature becomes 0).
 */
export function normalise(train: Float32Array, test: Float32Array, J: number, allBytes: boolean, max: number): Preprocessing {
  if (allBytes && max > 1) {
    for (const x of [train, test]) for (let i = 0; i < x.length; i++) x[i] /= 255
    return { kind: 'pixels' }
  }
  const n = train.length / J
  const mean = new Float64Array(J)
  const m2 = new Float64Array(J)
  for (let r = 0; r < n; r++) {
    const o = r * J
    for (let j = 0; j < J; j++) mean[j] += train[o + j]
  }
  for (let j = 0; j < J; j++) mean[j] /= n
  for (let r = 0; r < n; r++) {
    const o = r * J
    for (let j = 0; j < J; j++) {
      const d = train[o + j] - mean[j]
      m2[j] += d * d
    }
  }
  const inv = new Float64Array(J)
  for (let j = 0; j < J; j++) {
    const sd = Math.sqrt(m2[j] / n)
    // relative test: a feature whose spread is float rounding of its mean is constant
    inv[j] = sd > 1e-12 * Math.max(1, Math.abs(mean[j])) ? 1 / sd : 0
  }
  for (const x of [train, test]) {
    for (let o = 0; o < x.length; o += J) {
      for (let j = 0; j < J; j++) x[o + j] = (x[o + j] - mean[j]) * inv[j]
    }
  }
  return { kind: 'standardised', mean: Array.from(mean), scale: Array.from(inv) }
}
