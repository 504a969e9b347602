// The shard ledger of one job: leases with expiry, and the proof that every shard was processed once per epoch.
import { reject, type Rejection } from '../../protocol/errors.ts'
import { MinHeap } from './min-heap.ts'

export interface Lease {
  id: string
  worker: string
  shard: number
  epoch: number
  grantedAt: number
  /** Rows of this shard the worker has sent updates for. */
  rows: number
  /** The rate of an update of B rows (LeaseGrant.lr). */
  lr: number
}

/** A shard processed in an epoch, and the worker that did it. */
export interface Completion {
  epoch: number
  shard: number
  worker: string
}

export interface EpochReport {
  epoch: number
  processed: number
  shards: number
  missing: number[]
}

/**
 * Hands out (epoch, shard) pairs lowest epoch first. A lease ends by `complete` (counted once) or by `release` /
 * `expire` (the pair returns to the front of the pool, to be processed again by someone else).
 *
 * The pool is the pairs in (epoch, shard) order, each as one key epoch·shards + shard: those never handed out are
 * the keys from `cursor` on, those that came back (expired, reopened) sit in a min-heap; a lease takes the smaller.
 * Every operation is O(log n) however many epochs × shards the job has (an array of 262,000 pairs, shifted and
 * spliced, cost the coordinator 12 % of its CPU at 1,000 workers).
 */
export class ShardLedger {
  /** The next key never handed out. */
  private cursor = 0
  /** Keys below `cursor` back in the pool. */
  private readonly returned = new MinHeap<number>((a, b) => a < b)
  private readonly leases = new Map<string, Lease>()
  /** The same leases by worker: an update looks up its sender's lease without scanning every lease of the job. */
  private readonly byWorker = new Map<string, Map<string, Lease>>()
  private readonly completed: Array<Map<number, string>> = []
  private seq = 0
  private doneCount = 0

  constructor(
    readonly shards: number,
    readonly epochs: number,
  ) {
    for (let e = 0; e < epochs; e++) this.completed.push(new Map())
  }

  get total(): number {
    return this.shards * this.epochs
  }

  get processed(): number {
    return this.doneCount
  }

  get done(): boolean {
    return this.doneCount === this.total
  }

  /** Pairs in the pool now: neither completed nor leased. */
  get available(): number {
    return this.total - this.doneCount - this.leases.size
  }

  /** The lowest epoch with work left (= epochs when all is done). */
  get epoch(): number {
    for (let e = 0; e < this.epochs; e++) if (this.completed[e].size < this.shards) return e
    return this.epochs
  }

  get(id: string): Lease | undefined {
    return this.leases.get(id)
  }

  leasesOf(worker: string): Lease[] {
    const held = this.byWorker.get(worker)
    return held ? [...held.values()] : []
  }

  outstanding(): Lease[] {
    return [...this.leases.values()]
  }

  lease(worker: string, now: number): Lease | null {
    const k = this.next()
    if (k === null) return null
    const l: Lease = { id: `L${++this.seq}`, worker, epoch: Math.floor(k / this.shards), shard: k % this.shards, grantedAt: now, rows: 0, lr: 0 }
    this.leases.set(l.id, l)
    let held = this.byWorker.get(worker)
    if (!held) this.byWorker.set(worker, (held = new Map()))
    held.set(l.id, l)
    return l
  }

  /** Marks a lease's shard processed for its epoch; only its holder may, and only once. */
  complete(id: string, worker: string): Lease | Rejection {
    const l = this.leases.get(id)
    if (!l || l.worker !== worker) return reject('ERR_LEASE', `lease ${id} is not held by this worker`)
    this.drop(l)
    const done = this.completed[l.epoch]
    if (done.has(l.shard)) throw new Error(`ledger invariant broken: shard ${l.shard} of epoch ${l.epoch} completed twice`)
    done.set(l.shard, worker)
    this.doneCount++
    return l
  }

  /** Returns every lease of a departed or stalled worker to the pool; they are handed out next. */
  release(worker: string): Lease[] {
    const gone = this.leasesOf(worker)
    for (const l of gone) this.expire(l.id)
    return gone
  }

  expire(id: string): void {
    const l = this.leases.get(id)
    if (!l) return
    this.drop(l)
    this.toPool(l.epoch, l.shard)
  }

  private drop(l: Lease): void {
    this.leases.delete(l.id)
    const held = this.byWorker.get(l.worker)
    held?.delete(l.id)
    if (held?.size === 0) this.byWorker.delete(l.worker)
  }

  /** The pool's first key, taken out of it; null when it is empty. Pairs completed before a restart are skipped. */
  private next(): number | null {
    const total = this.total
    for (;;) {
      const back = this.returned.peek()
      let k: number
      if (back !== undefined && (back < this.cursor || this.cursor >= total)) k = this.returned.pop()!
      else if (this.cursor < total) k = this.cursor++
      else return null
      if (!this.completed[Math.floor(k / this.shards)].has(k % this.shards)) return k
    }
  }

  /** Back into the pool, in (epoch, shard) order, so the oldest epoch finishes first. */
  private toPool(epoch: number, shard: number): void {
    const k = epoch * this.shards + shard
    // a key at or past the cursor is still in the pool's fresh part (a pair completed before a restart, reopened)
    if (k < this.cursor) this.returned.push(k)
  }

  /** A shard `worker` completed is to be processed again (its updates were taken back): back to the pool's front. */
  reopen(epoch: number, shard: number, worker: string): boolean {
    const done = this.completed[epoch]
    if (done?.get(shard) !== worker) return false
    done.delete(shard)
    this.doneCount--
    this.toPool(epoch, shard)
    return true
  }

  /** Every (epoch, shard) processed, and by whom: what a durable store keeps to resume the ledger. */
  completions(): Completion[] {
    return this.completed.flatMap((m, epoch) => [...m].map(([shard, worker]) => ({ epoch, shard, worker })))
  }

  /** Marks shards processed before a restart (they leave the pool); entries outside the job are ignored. */
  restore(done: readonly Completion[]): void {
    for (const c of done) {
      const m = this.completed[c.epoch]
      if (!m || c.shard < 0 || c.shard >= this.shards || m.has(c.shard)) continue
      // it leaves the pool: the cursor and the heap skip completed pairs
      m.set(c.shard, c.worker)
      this.doneCount++
    }
  }

  /** Per epoch: how many shards were processed, and which are missing; the proof behind "every shard once". */
  report(): EpochReport[] {
    return this.completed.map((m, epoch) => {
      const missing: number[] = []
      for (let s = 0; s < this.shards; s++) if (!m.has(s)) missing.push(s)
      return { epoch, processed: m.size, shards: this.shards, missing }
    })
  }

  /** Who processed each shard in an epoch (worker id per shard, undefined if not yet). */
  processors(epoch: number): Array<string | undefined> {
    const m = this.completed[epoch]
    return Array.from({ length: this.shards }, (_, s) => m?.get(s))
  }
}
