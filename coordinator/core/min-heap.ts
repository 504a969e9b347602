// A binary min-heap ordered by a `before` relation: O(log n) push and pop. The shard ledger's pool of returned keys
// and the grid simulator's event queue both use it.

/**
 * @example
 * const h = new MinHeap<number>((a, b) => a < b)
 * h.push(5); h.push(2)
 * h.pop() // 2
 */
export class MinHeap<T> {
  private readonly a: T[] = []

  /** `before(x, y)`: x comes out first. Items neither before the other come out in no set order. */
  constructor(private readonly before: (x: T, y: T) => boolean) {}

  get size(): number {
    return this.a.length
  }

  /** The first item, or undefined when empty. */
  peek(): T | undefined {
    return this.a[0]
  }

  push(k: T): void {
    const a = this.a
    let i = a.push(k) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.before(k, a[p])) break
      a[i] = a[p]
      i = p
    }
    a[i] = k
  }

  pop(): T | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (a.length === 0 || last === undefined) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= a.length) break
      const c = l + 1 < a.length && this.before(a[l + 1], a[l]) ? l + 1 : l
      if (!this.before(a[c], last)) break
      a[i] = a[c]
      i = c
    }
    a[i] = last
    return top
  }
}
