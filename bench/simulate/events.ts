// Virtual time for the grid simulator: a priority queue of callbacks ordered by (time, insertion order).
import { MinHeap } from '../../coordinator/core/min-heap.ts'

interface Event {
  t: number
  seq: number
  fn: () => void
}

/**
 * Events on a min-heap. Ties at the same virtual time run in the order they were scheduled, so a run depends
 * on nothing but its seed.
 *
 * @example
 * const q = new EventQueue(); q.at(5, () => console.log('b')); q.at(1, () => console.log('a')); q.run(10) // a, b
 */
export class EventQueue {
  private readonly heap = new MinHeap<Event>(before)
  private seq = 0
  /** Virtual milliseconds: the time of the event being run. */
  now = 0

  get size(): number {
    return this.heap.size
  }

  /** Runs `fn` at virtual time t (never before now). */
  at(t: number, fn: () => void): void {
    this.heap.push({ t: Math.max(t, this.now), seq: this.seq++, fn })
  }

  /** Runs events in order until the queue is empty, `until` (virtual ms) is reached, or `stop()` says so. */
  run(until: number, stop: () => boolean = () => false): void {
    for (let top = this.heap.peek(); top && top.t <= until && !stop(); top = this.heap.peek()) {
      this.heap.pop()
      this.now = top.t
      top.fn()
    }
    if (!stop()) this.now = Math.max(this.now, until)
  }
}

function before(a: Event, b: Event): boolean {
  return a.t < b.t || (a.t === b.t && a.seq < b.seq)
}
