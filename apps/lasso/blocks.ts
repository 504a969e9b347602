// The Lasso job's column-block ledger: which worker holds which block of X, which holders have fetched theirs, and
// an even spread of blocks over the workers as they come and go.

/** A block's columns: [first, first + cols). */
export interface BlockRange {
  first: number
  cols: number
}

/**
 * Blocks of `columns` columns over p features. A block is held by one worker or by none (an orphan, after its holder
 * left); its coordinates may be scheduled only once the holder said it fetched it (`confirm`).
 *
 * @example
 * const l = new BlockLedger(1000, 300) // 4 blocks, the last of 100 columns
 * l.balance(['a', 'b'])                // a: [0, 2], b: [1, 3] (what changed, per worker)
 * l.confirm('a', [0, 2])                // null: a may now be given coordinates of columns 0–299 and 600–899
 */
export class BlockLedger {
  readonly count: number
  private readonly holder: Array<string | null>
  private readonly fetched: boolean[]
  /** When each block was last given to its holder (ms): one not fetched long after is a stalled holder's. */
  private readonly since: number[]

  constructor(
    readonly p: number,
    readonly columns: number,
  ) {
    this.count = Math.max(1, Math.ceil(p / columns))
    this.holder = new Array<string | null>(this.count).fill(null)
    this.fetched = new Array<boolean>(this.count).fill(false)
    this.since = new Array<number>(this.count).fill(0)
  }

  range(b: number): BlockRange {
    const first = b * this.columns
    return { first, cols: Math.max(0, Math.min(this.columns, this.p - first)) }
  }

  blockOf(j: number): number {
    return Math.floor(j / this.columns)
  }

  holderOf(b: number): string | null {
    return this.holder[b] ?? null
  }

  /** Coordinate j may be scheduled: its block's holder fetched it. */
  ready(j: number): boolean {
    const b = this.blockOf(j)
    return this.holder[b] !== null && this.fetched[b]
  }

  of(worker: string): number[] {
    const out: number[] = []
    for (let b = 0; b < this.count; b++) if (this.holder[b] === worker) out.push(b)
    return out
  }

  /** The workers holding at least one fetched block: those a round can give coordinates to. */
  holders(): Set<string> {
    const out = new Set<string>()
    for (let b = 0; b < this.count; b++) if (this.holder[b] !== null && this.fetched[b]) out.add(this.holder[b]!)
    return out
  }

  /** Blocks held and fetched. */
  get held(): number {
    let n = 0
    for (let b = 0; b < this.count; b++) if (this.holder[b] !== null && this.fetched[b]) n++
    return n
  }

  /** The worker fetched these blocks; an error (for ERR_LEASE) naming the first it does not hold. */
  confirm(worker: string, blocks: readonly number[]): string | null {
    for (const b of blocks) {
      if (!(b >= 0 && b < this.count) || this.holder[b] !== worker) return `block ${b} is not held by this worker (moved, or never granted)`
    }
    for (const b of blocks) this.fetched[b] = true
    return null
  }

  /** Blocks given to a worker longer than `ms` before `now` that it has not fetched. */
  overdue(now: number, ms: number): Array<{ block: number; worker: string }> {
    const out: Array<{ block: number; worker: string }> = []
    for (let b = 0; b < this.count; b++) {
      const w = this.holder[b]
      if (w !== null && !this.fetched[b] && now - this.since[b] > ms) out.push({ block: b, worker: w })
    }
    return out
  }

  /** Returns a worker's blocks to the pool (it left); the blocks it held. */
  release(worker: string): number[] {
    const out: number[] = []
    for (let b = 0; b < this.count; b++) {
      if (this.holder[b] !== worker) continue
      this.holder[b] = null
      this.fetched[b] = false
      out.push(b)
    }
    return out
  }

  /**
   * Spreads the blocks over `workers` so that counts differ by at most one: orphans go to the workers with the
   * fewest, then blocks move from the most loaded to the least. Returns the workers whose blocks changed (they are
   * told their new set); a moved block must be fetched again by its new holder before it is scheduled.
   */
  balance(workers: readonly string[], now = 0): Set<string> {
    const changed = new Set<string>()
    if (workers.length === 0) return changed
    const load = new Map<string, number[]>(workers.map((w) => [w, []]))
    for (let b = 0; b < this.count; b++) {
      const w = this.holder[b]
      if (w !== null && load.has(w)) load.get(w)!.push(b)
      else if (w !== null) this.holder[b] = null // a holder no longer among the workers
    }
    const least = () => [...load.entries()].reduce((a, c) => (c[1].length < a[1].length ? c : a))
    const most = () => [...load.entries()].reduce((a, c) => (c[1].length > a[1].length ? c : a))
    const give = (b: number, w: string) => {
      this.holder[b] = w
      this.fetched[b] = false
      this.since[b] = now
      load.get(w)!.push(b)
      changed.add(w)
    }
    for (let b = 0; b < this.count; b++) if (this.holder[b] === null) give(b, least()[0])
    for (;;) {
      const [hi, his] = most()
      const [lo, los] = least()
      if (his.length - los.length <= 1) break
      const b = his.pop()!
      changed.add(hi)
      give(b, lo)
    }
    return changed
  }
}
