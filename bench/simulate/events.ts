// Virtual time for the grid simulator: a priority queue of callbacks ordered by (time, insertion order).

interface Event {
  t: number
  seq: number
  fn: () => void
}

/**
 * A binary min-heap of events. Ties at the same virtual time run in the order they were scheduled, so a run depends
 * on nothing but its seed.
 *
 * @example
 * const q = new EventQueue(); q.at(5, () => console.log('b')); q.at(1, () => console.log('a')); q.run(10) // a, b
 */
export class EventQueue {
  private readonly heap: Event[] = []
  private seq = 0
  /** Virtual milliseconds: the time of the event being run. */
  now = 0

  get size(): number {
    return this.heap.length
  }

  /** Runs `fn` at virtual time t (never before now). */
  at(t: number, fn: () => void): void {
    const e = { t: Math.max(t, this.now), seq: this.seq++, fn }
    const h = this.heap
    let i = h.push(e) - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!before(e, h[p])) break
      h[i] = h[p]
      i = p
    }
    h[i] = e
  }

  /** Runs events in order until the queue is empty, `until` (virtual ms) is reached, or `stop()` says so. */
  run(until: number, stop: () => boolean = () => false): void {
    const h = this.heap
    while (h.length && h[0].t <= until && !stop()) {
      const top = h[0]
      const last = h.pop()!
      if (h.length) {
        let i = 0
        for (;;) {
          const l = 2 * i + 1
          if (l >= h.length) break
          const r = l + 1
          const c = r < h.length && before(h[r], h[l]) ? r : l
          if (!before(h[c], last)) break
          h[i] = h[c]
          i = c
        }
        h[i] = last
      }
      this.now = top.t
      top.fn()
    }
    if (!stop()) this.now = Math.max(this.now, until)
  }
}

function before(a: Event, b: Event): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq)
}
