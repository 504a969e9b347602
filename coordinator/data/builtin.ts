// The built-in dataset: seeded synthetic handwritten-like digits, 28×28, ten classes.
import { GLYPHS } from './glyphs.ts'
import { mulberry32 } from './random.ts'
import { drawSegment } from './raster.ts'
import type { Dataset, Split } from './types.ts'

const SIZE = 28
const CLASSES = 10
/** Pixels per glyph unit: glyphs span x ∈ [-0.6, 0.6], y ∈ [-1, 1]. */
const UNIT_X = 8
const UNIT_Y = 9.5
/** Knobs of the per-sample variation, tuned so softmax regression lands near 95% after one epoch. */
const SHIFT = 2 // px: a triangular offset in ±SHIFT on each axis, most samples near the centre
const ROTATE = 0.15 // rad
const SHEAR = 0.2
const WARP = 0.12 // quadratic bend, glyph units
const HALF_WIDTH: [number, number] = [0.7, 1.7] // px
const INTENSITY: [number, number] = [0.65, 1]
const NOISE = 0.1 // σ of additive pixel noise
const LABEL_NOISE = 0.03

export interface BuiltinOptions {
  /** PRNG seed; the same seed gives identical bytes. Default 1. */
  seed?: number
  /** Training samples, default 6000. */
  train?: number
  /** Test samples, default 1000. */
  test?: number
}

/**
 * A deterministic synthetic digit set: each sample is one of a few pen-stroke styles of its digit, drawn with a
 * random shift (±2 px), rotation, shear, bend, stroke width and ink, plus pixel noise; 3% of labels are wrong.
 * Train and test come from separate streams, so sample i of either split does not depend on the other's size.
 *
 * @example
 * const d = builtinDataset({ seed: 7, train: 1000 })   // d.train.x is 1000×784 in [0, 1]
 */
export function builtinDataset(opts: BuiltinOptions = {}): Dataset {
  const seed = opts.seed ?? 1
  const train = generate(opts.train ?? 6000, mulberry32(seed))
  const test = generate(opts.test ?? 1000, mulberry32(seed ^ 0x5bd1e995))
  return {
    name: 'builtin',
    source: 'builtin',
    features: SIZE * SIZE,
    classes: CLASSES,
    labels: Array.from({ length: CLASSES }, (_, k) => String(k)),
    imageShape: [SIZE, SIZE],
    train,
    test,
  }
}

function generate(n: number, rand: () => number): Split {
  const J = SIZE * SIZE
  const x = new Float32Array(n * J)
  const y = new Uint8Array(n)
  for (let i = 0; i < n; i++) {
    const digit = Math.floor(rand() * CLASSES)
    drawDigit(x.subarray(i * J, (i + 1) * J), digit, rand)
    y[i] = rand() < LABEL_NOISE ? (digit + 1 + Math.floor(rand() * (CLASSES - 1))) % CLASSES : digit
  }
  return { n, x, y }
}

const between = (rand: () => number, [lo, hi]: [number, number]) => lo + (hi - lo) * rand()
const signed = (rand: () => number, a: number) => (rand() * 2 - 1) * a

/** Renders one sample of the digit into img (SIZE×SIZE, zeroed). */
function drawDigit(img: Float32Array, digit: number, rand: () => number): void {
  const styles = GLYPHS[digit]
  const glyph = styles[Math.floor(rand() * styles.length)]
  const angle = signed(rand, ROTATE)
  const cos = Math.cos(angle)
  const sin = Math.sin(angle)
  const shear = signed(rand, SHEAR)
  const sx = UNIT_X * between(rand, [0.8, 1.15])
  const sy = UNIT_Y * between(rand, [0.85, 1.08])
  const bendX = signed(rand, WARP)
  const bendY = signed(rand, WARP)
  const cx = SIZE / 2 + signed(rand, SHIFT / 2) + signed(rand, SHIFT / 2)
  const cy = SIZE / 2 + signed(rand, SHIFT / 2) + signed(rand, SHIFT / 2)
  const r = between(rand, HALF_WIDTH)
  const ink = between(rand, INTENSITY)
  // glyph unit (u, v) → pixel (px, py): bend, shear, scale, rotate, shift
  const px = (u: number, v: number) => {
    const a = (u + bendX * v * v + shear * v) * sx
    const b = (v + bendY * u * u) * sy
    return cx + cos * a - sin * b
  }
  const py = (u: number, v: number) => {
    const a = (u + bendX * v * v + shear * v) * sx
    const b = (v + bendY * u * u) * sy
    return cy + sin * a + cos * b
  }
  for (const line of glyph) {
    for (let k = 0; k + 3 < line.length; k += 2) {
      const [u0, v0, u1, v1] = [line[k], line[k + 1], line[k + 2], line[k + 3]]
      drawSegment(img, SIZE, px(u0, v0), py(u0, v0), px(u1, v1), py(u1, v1), r)
    }
  }
  for (let o = 0; o < img.length; o++) {
    // a sum of four uniforms: close enough to a Gaussian, and cheap
    const g = (rand() + rand() + rand() + rand() - 2) * 1.7320508
    const v = img[o] * ink + g * NOISE
    img[o] = v < 0 ? 0 : v > 1 ? 1 : v
  }
}
