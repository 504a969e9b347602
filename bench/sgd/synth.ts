// A tabular CSV data set to check that defaults tuned on pixels do not diverge on standardised features.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { gaussian, mulberry32 } from '../../model/random.ts'

/**
 * Writes `rows` samples of `features` Gaussian features and 3 classes to a temporary CSV (label first) and returns
 * its path. The class is the arg-max of three random linear scores of latent factors plus noise (≈ 10% of labels
 * are hard); features are the latent factors, a quarter of them near-copies of others (correlated columns make the
 * loss steeper along some directions), on wildly different scales and offsets that the CSV loader standardises.
 */
export function writeSyntheticCsv(rows = 6000, features = 20, seed = 5): string {
  const rand = mulberry32(seed)
  const W = Array.from({ length: 3 }, () => Array.from({ length: features }, () => gaussian(rand)))
  const scale = Array.from({ length: features }, () => 10 ** (5 * rand() - 2))
  const offset = Array.from({ length: features }, () => 1000 * (2 * rand() - 1))
  const copyOf = Array.from({ length: features }, (_, j) => (j % 4 === 3 ? j - 1 : -1))
  const lines: string[] = []
  for (let r = 0; r < rows; r++) {
    const z = Array.from({ length: features }, () => gaussian(rand))
    for (let j = 0; j < features; j++) if (copyOf[j] >= 0) z[j] = z[copyOf[j]] + 0.2 * z[j]
    const score = W.map((w) => w.reduce((s, v, j) => s + v * z[j], 0) + 2 * gaussian(rand))
    const label = score.indexOf(Math.max(...score))
    lines.push([label, ...z.map((v, j) => (v * scale[j] + offset[j]).toPrecision(6))].join(','))
  }
  const file = join(mkdtempSync(join(tmpdir(), 'tabgrid-synth-')), 'synthetic.csv')
  writeFileSync(file, lines.join('\n') + '\n')
  return file
}
