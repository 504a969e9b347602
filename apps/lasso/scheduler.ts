// The Lasso coordinate schedulers (issue 9, STRADS): which coordinates the workers update next, round by round.
import { mulberry32 } from '../../model/random.ts'
import { dot } from './objective.ts'
import { column, type RegressionData } from './types.ts'

/** Picks the coordinates of a round and learns from how much each one moved. */
export interface Scheduler {
  /**
   * Up to `count` distinct coordinates to update in parallel in round `round` (0-based); on the grid, only those
   * `within` allows (columns held by a ready worker, not in flight), and for sap, independent of `within.busy` too
   * (coordinates of rounds still in flight).
   */
  pick(round: number, count: number, within?: PickLimits): number[]
  /** Coordinate j moved by `delta` when it was last updated. */
  observe(j: number, delta: number): void
}

export type SchedulerKind = 'sap' | 'shotgun' | 'sequential'

/** Where a grid round may pick from: the coordinator's view of which columns can be updated now. */
export interface PickLimits {
  eligible(j: number): boolean
  /** Coordinates being updated in rounds in flight. */
  busy?: readonly number[]
}

export interface SchedulerOptions {
  /** Seed of the scheduler's randomness (sap, shotgun). Default 1. */
  seed?: number
  /** sap: the candidate pool is `count × oversample` coordinates. Default 3; a pool near p makes picks greedy. */
  oversample?: number
  /** sap: two coordinates share a round only if |cos(xⱼ, xₖ)| ≤ threshold. Default 0.1. */
  threshold?: number
  /**
   * sap: the priority floor η, relative to the starting priority maxⱼ (xⱼᵀy)², so that no coordinate starves.
   * Default 1e-4 (1e-6 and 1e-2 took 5–30% more rounds in bench/lasso.ts).
   */
  eta?: number
}

/**
 * A complete binary tree of non-negative weights whose inner nodes hold the sums of their children: set a weight and
 * draw an index with probability ∝ its weight, both in O(log length). Sums are recomputed from the children on every
 * set, so they never drift however many updates come.
 *
 * @example
 * const t = new SumTree(3)
 * t.set(0, 1); t.set(2, 3)
 * t.sample(0.5) // 2 (cumulative ranges: 0 → [0, 1), 2 → [1, 4); 0.5 · 4 = 2)
 */
export class SumTree {
  private readonly leaves: number
  private readonly t: Float64Array

  constructor(readonly length: number) {
    let size = 1
    while (size < length) size *= 2
    this.leaves = size
    this.t = new Float64Array(2 * size)
  }

  /** The sum of all weights. */
  get total(): number {
    return this.t[1]
  }

  get(i: number): number {
    return this.t[this.leaves + i]
  }

  set(i: number, w: number): void {
    const t = this.t
    let k = this.leaves + i
    t[k] = w
    for (k >>= 1; k >= 1; k >>= 1) t[k] = t[2 * k] + t[2 * k + 1]
  }

  /** The index whose cumulative range holds u · total, for u in [0, 1); never one of weight 0. Needs total > 0. */
  sample(u: number): number {
    const t = this.t
    let x = u * t[1]
    let k = 1
    while (k < this.leaves) {
      const l = 2 * k
      if (x < t[l] || t[l + 1] <= 0) k = l
      else {
        x -= t[l]
        k = l + 1
      }
    }
    return k - this.leaves
  }
}

/**
 * STRADS' structure-aware scheduler: priority (δβⱼ)² + η, a pool of `count × oversample` distinct coordinates
 * drawn ∝ priority, then, in priority order, a coordinate is kept only if its column is nearly uncorrelated
 * (|cos| ≤ threshold) with every one kept before it. Every priority starts at maxⱼ (xⱼᵀy)², the most any first
 * update can move a coordinate, so unvisited coordinates come first. O(log p) a draw or an update (a
 * {@link SumTree}); O(pool · count · n) a pick for the dependency check.
 *
 * @example
 * const s = new SapScheduler(data, { seed: 7 })
 * const js = s.pick(0, 8) // ≤ 8 distinct, pairwise |cos| ≤ 0.1
 * for (const j of js) s.observe(j, deltaOf(j))
 */
export class SapScheduler implements Scheduler {
  private readonly tree: SumTree
  private readonly eta: number
  private readonly norms: Float64Array
  private readonly rand: () => number
  private readonly oversample: number
  private readonly threshold: number

  constructor(
    private readonly d: RegressionData,
    opts: SchedulerOptions = {},
  ) {
    this.rand = mulberry32(opts.seed ?? 1)
    this.oversample = opts.oversample ?? 3
    this.threshold = opts.threshold ?? 0.1
    this.norms = new Float64Array(d.p)
    let start = 0
    for (let j = 0; j < d.p; j++) {
      const xj = column(d, j)
      this.norms[j] = Math.sqrt(dot(xj, xj))
      start = Math.max(start, dot(xj, d.y) ** 2)
    }
    if (!(start > 0)) start = 1
    this.eta = (opts.eta ?? 1e-4) * start
    this.tree = new SumTree(d.p)
    for (let j = 0; j < d.p; j++) this.tree.set(j, start)
  }

  /** Coordinate j's current priority. */
  priority(j: number): number {
    return this.tree.get(j)
  }

  pick(_round: number, count: number, within?: PickLimits): number[] {
    const pool = Math.min(this.d.p, Math.ceil(count * this.oversample))
    const drawn: number[] = []
    const weights: number[] = []
    const skipped: number[] = []
    const skippedWeights: number[] = []
    // ineligible draws are set aside (and tried no more this round), up to a bound where few columns are eligible
    for (let tries = 0; drawn.length < pool && this.tree.total > 0 && tries < 4 * pool + 64; tries++) {
      const j = this.tree.sample(this.rand())
      const w = this.tree.get(j)
      this.tree.set(j, 0) // without replacement within the round
      if (within && !within.eligible(j)) {
        skipped.push(j)
        skippedWeights.push(w)
        continue
      }
      drawn.push(j)
      weights.push(w)
    }
    for (let i = 0; i < drawn.length; i++) this.tree.set(drawn[i], weights[i])
    for (let i = 0; i < skipped.length; i++) this.tree.set(skipped[i], skippedWeights[i])
    const order = drawn.map((_, i) => i).sort((a, b) => weights[b] - weights[a])
    const kept: number[] = []
    const busy = within?.busy ?? []
    for (const i of order) {
      if (kept.length >= count) break
      const j = drawn[i]
      if (kept.every((k) => this.independent(j, k)) && busy.every((k) => this.independent(j, k))) kept.push(j)
    }
    return kept
  }

  observe(j: number, delta: number): void {
    this.tree.set(j, delta * delta + this.eta)
  }

  private independent(j: number, k: number): boolean {
    const nj = this.norms[j]
    const nk = this.norms[k]
    if (nj === 0 || nk === 0) return true
    return Math.abs(dot(column(this.d, j), column(this.d, k))) <= this.threshold * nj * nk
  }
}

/**
 * Shotgun (Bradley et al.): `count` distinct coordinates uniformly at random, blind to correlation — the baseline.
 *
 * @example
 * new ShotgunScheduler(1000, { seed: 3 }).pick(0, 8) // 8 distinct coordinates in [0, 1000)
 */
export class ShotgunScheduler implements Scheduler {
  private readonly perm: Int32Array
  private readonly rand: () => number

  constructor(p: number, opts: SchedulerOptions = {}) {
    this.perm = Int32Array.from({ length: p }, (_, j) => j)
    this.rand = mulberry32(opts.seed ?? 1)
  }

  pick(_round: number, count: number, within?: PickLimits): number[] {
    const perm = this.perm
    const out: number[] = []
    // a partial Fisher–Yates shuffle, passing over ineligible columns
    for (let i = 0; i < perm.length && out.length < count; i++) {
      const k = i + Math.floor(this.rand() * (perm.length - i))
      const t = perm[i]
      perm[i] = perm[k]
      perm[k] = t
      if (!within || within.eligible(perm[i])) out.push(perm[i])
    }
    return out
  }

  observe(): void {}
}

/**
 * Plain cyclic coordinate descent: coordinates 0, 1, …, p − 1, 0, … one per round whatever the count.
 *
 * @example
 * const s = new SequentialScheduler(3)
 * s.pick(0, 8) // [0]
 * s.pick(1, 8) // [1]
 */
export class SequentialScheduler implements Scheduler {
  /** The next coordinate in cyclic order (on the grid, ineligible ones are passed over and come up next cycle). */
  private next = 0

  constructor(private readonly p: number) {}

  pick(_round: number, count: number, within?: PickLimits): number[] {
    if (count <= 0 || this.p === 0) return []
    for (let tries = 0; tries < this.p; tries++) {
      const j = this.next
      this.next = (this.next + 1) % this.p
      if (!within || within.eligible(j)) return [j]
    }
    return []
  }

  observe(): void {}
}

/** The scheduler of a kind, over the data's p coordinates. */
export function makeScheduler(kind: SchedulerKind, d: RegressionData, opts: SchedulerOptions = {}): Scheduler {
  switch (kind) {
    case 'sap':
      return new SapScheduler(d, opts)
    case 'shotgun':
      return new ShotgunScheduler(d.p, opts)
    case 'sequential':
      return new SequentialScheduler(d.p)
    default: {
      const unreachable: never = kind
      return unreachable
    }
  }
}
