// The column blocks a Lasso worker holds, side by side: one column-major X of every held column (what the CPU step
// and the GPU kernel read), each column's squared norm, and the map from a global column to its place in X.
import { dot } from '../../apps/lasso/objective.ts'
import type { BlockGrant } from '../../protocol/lasso.ts'
import { TabgridError } from '../../protocol/errors.ts'

interface Placed {
  grant: BlockGrant
  /** The block's first column in X. */
  at: number
}

/**
 * Held blocks in order of their first column, concatenated: block b's column k is X's column `at(b) + k`. Adding or
 * dropping blocks rebuilds X (rare: joins, leaves, rebalancing); looking a column up is a binary search.
 *
 * @example
 * const h = new HeldColumns(2000)
 * h.change([{ grant: { block: 3, first: 1500, cols: 500, url }, x }], [])
 * h.local(Uint32Array.of(1501)) // Uint32Array [1]
 */
export class HeldColumns {
  /** n·cols floats, column-major. */
  x = new Float32Array(0)
  /** ‖xⱼ‖² per held column (float64 sums, as apps/lasso/step.ts computes them). */
  norms = new Float64Array(0)
  private placed: Placed[] = []

  constructor(readonly n: number) {}

  get cols(): number {
    return this.x.length / this.n
  }

  /** The held blocks' ids, in order of their columns. */
  get blocks(): number[] {
    return this.placed.map((p) => p.grant.block)
  }

  has(block: number): boolean {
    return this.placed.some((p) => p.grant.block === block)
  }

  /** Adds blocks (their data: cols·n floats) and drops others, in one rebuild; false when nothing changed. */
  change(add: { grant: BlockGrant; x: Float32Array }[], drop: number[]): boolean {
    const gone = new Set(drop)
    const kept = this.placed.filter((p) => !gone.has(p.grant.block))
    if (add.length === 0 && kept.length === this.placed.length) return false
    for (const a of add) {
      if (a.x.length !== a.grant.cols * this.n) {
        throw new TabgridError('ERR_BAD_SHAPE', `block ${a.grant.block}: ${a.x.length} floats, expected ${a.grant.cols} columns of ${this.n}`)
      }
    }
    const sources = [
      ...kept.map((p) => ({ grant: p.grant, x: this.x.subarray(p.at * this.n, (p.at + p.grant.cols) * this.n), norms: this.norms.subarray(p.at, p.at + p.grant.cols) })),
      ...add.map((a) => ({ ...a, norms: columnNorms(a.x, this.n, a.grant.cols) })),
    ].sort((a, b) => a.grant.first - b.grant.first)
    for (let i = 1; i < sources.length; i++) {
      const prev = sources[i - 1].grant
      if (prev.first + prev.cols > sources[i].grant.first) {
        throw new TabgridError('ERR_BAD_SHAPE', `blocks ${prev.block} and ${sources[i].grant.block} overlap`)
      }
    }
    const cols = sources.reduce((s, b) => s + b.grant.cols, 0)
    const x = new Float32Array(cols * this.n)
    const norms = new Float64Array(cols)
    const placed: Placed[] = []
    let at = 0
    for (const s of sources) {
      x.set(s.x, at * this.n)
      norms.set(s.norms, at)
      placed.push({ grant: s.grant, at })
      at += s.grant.cols
    }
    this.x = x
    this.norms = norms
    this.placed = placed
    return true
  }

  /** X's column of each global column; ERR_LEASE for a column in no held block. */
  local(columns: Uint32Array): Uint32Array {
    const out = new Uint32Array(columns.length)
    for (let k = 0; k < columns.length; k++) {
      const j = columns[k]
      const p = this.find(j)
      if (!p) throw new TabgridError('ERR_LEASE', `column ${j} is in no block this worker holds (${this.blocks.join(', ') || 'none'})`)
      out[k] = p.at + (j - p.grant.first)
    }
    return out
  }

  private find(j: number): Placed | undefined {
    let lo = 0
    let hi = this.placed.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const p = this.placed[mid]
      if (j < p.grant.first) hi = mid - 1
      else if (j >= p.grant.first + p.grant.cols) lo = mid + 1
      else return p
    }
    return undefined
  }
}

/** ‖xⱼ‖² of each of `cols` columns of n rows, summed in float64 in row order. */
function columnNorms(x: Float32Array, n: number, cols: number): Float64Array {
  return Float64Array.from({ length: cols }, (_, j) => {
    const xj = x.subarray(j * n, (j + 1) * n)
    return dot(xj, xj)
  })
}
