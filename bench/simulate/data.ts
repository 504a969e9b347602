// The simulator's data set: a seeded teacher–student classification task, big enough for 10,000 workers.
import type { Dataset, Split } from '../../coordinator/data/index.ts'
import { gaussian, mulberry32 } from '../../model/random.ts'

/**
 * n samples of `features` standard normal features; the label is the arg-max of a fixed random linear teacher's
 * scores plus Gaussian noise, so softmax regression can learn it but never perfectly (72–73 % test accuracy at
 * best with the defaults, after ~500 steps of B 256 in one process). The built-in digits have 6,000 training samples: 10,000 workers at B 32 would pass one epoch in less
 * than one clock, and 784 features at the 800,000 rows needed would take 2.5 GB.
 *
 * @example
 * const d = teacherDataset(800_000, 5000) // 800k × 20 train, 5k test, 10 classes
 */
export function teacherDataset(train: number, test: number, features = 20, classes = 10, seed = 11): Dataset {
  const rand = mulberry32(seed)
  const W = Array.from({ length: classes * features }, () => gaussian(rand) / Math.sqrt(features))
  const split = (n: number, r: () => number): Split => {
    const x = new Float32Array(n * features)
    const y = new Uint8Array(n)
    const score = new Float64Array(classes)
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < features; j++) x[i * features + j] = gaussian(r)
      let best = 0
      for (let k = 0; k < classes; k++) {
        let s = 0.35 * gaussian(r)
        for (let j = 0; j < features; j++) s += W[k * features + j] * x[i * features + j]
        score[k] = s
        if (s > score[best]) best = k
      }
      y[i] = best
    }
    return { n, x, y }
  }
  return {
    name: `teacher-${features}x${classes}`,
    source: 'bench/simulate',
    features,
    classes,
    labels: Array.from({ length: classes }, (_, k) => String(k)),
    train: split(train, mulberry32(seed + 1)),
    test: split(test, mulberry32(seed + 2)),
  }
}
