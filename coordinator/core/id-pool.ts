// A set of ids with O(1) add, remove and uniform random picks: how a joiner's peers are chosen at any job size.

/**
 * @example
 * const p = new IdPool(); p.add('a'); p.add('b'); p.add('c')
 * p.pick(2) // two of a, b, c, at random
 * p.remove('b')
 */
export class IdPool {
  private readonly ids: string[] = []
  private readonly at = new Map<string, number>()

  constructor(private readonly random: () => number = Math.random) {}

  get size(): number {
    return this.ids.length
  }

  add(id: string): void {
    if (this.at.has(id)) return
    this.at.set(id, this.ids.length)
    this.ids.push(id)
  }

  remove(id: string): void {
    const i = this.at.get(id)
    if (i === undefined) return
    const last = this.ids.pop()!
    this.at.delete(id)
    if (last !== id) {
      this.ids[i] = last
      this.at.set(last, i)
    }
  }

  /** Up to `k` distinct ids, uniformly at random (all of them, in order, when there are no more than `k`). */
  pick(k: number): string[] {
    const n = this.ids.length
    if (n <= k) return [...this.ids]
    // Floyd's algorithm: k draws, whatever n
    const chosen = new Set<number>()
    for (let j = n - k; j < n; j++) {
      const t = Math.floor(this.random() * (j + 1))
      chosen.add(chosen.has(t) ? j : t)
    }
    return [...chosen].map((i) => this.ids[i])
  }
}
