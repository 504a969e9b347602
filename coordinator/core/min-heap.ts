// A binary min-heap of non-negative integers: O(log n) push and pop, for queues ordered by an integer key.

/**
 * @example
 * const h = new MinHeap()
 * h.push(5); h.push(2)
 * h.pop() // 2
 */
export class MinHeap {
  private readonly a: number[] = []

  get size(): number {
    return this.a.length
  }

  /** The smallest key, or undefined when empty. */
  peek(): number | undefined {
    return this.a[0]
  }

  push(k: number): void {
    const a = this.a
    let i = a.push(k) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (a[p] <= k) break
      a[i] = a[p]
      i = p
    }
    a[i] = k
  }

  pop(): number | undefined {
    const a = this.a
    const top = a[0]
    const last = a.pop()
    if (a.length === 0 || last === undefined) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= a.length) break
      const c = l + 1 < a.length && a[l + 1] < a[l] ? l + 1 : l
      if (a[c] >= last) break
      a[i] = a[c]
      i = c
    }
    a[i] = last
    return top
  }
}
