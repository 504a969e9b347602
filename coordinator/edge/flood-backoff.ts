// Connections refused from an address whose sockets were cut off for flooding: an exponential back-off per address.

export interface FloodBackoffOptions {
  /** After the k-th cut-off within `memoryMs`, new connections from the address are refused for base · 2^(k−1)… */
  baseMs: number
  /** …but never longer than this. */
  maxMs: number
  /** How long a cut-off counts against its address. */
  memoryMs: number
  /** Addresses remembered; the oldest are forgotten past this. */
  maxRecords: number
}

/**
 * A flooder that reconnects after every cut-off gets a fresh token bucket each time, so per-socket limits alone let it
 * spend a burst per reconnect for ever. Counting cut-offs per address and refusing its next connections for a
 * doubling time (before the websocket upgrade, at engine.io's `allowRequest`) bounds what it costs: ~log₂ of the
 * job's length in bursts.
 *
 * @example
 * const b = new FloodBackoff({ baseMs: 2000, maxMs: 300_000, memoryMs: 600_000, maxRecords: 10_000 })
 * b.cutOff('10.0.0.7', 'j-1')   // its first cut-off
 * b.waitMs('10.0.0.7')          // { ms: 2000, job: 'j-1' }: refused for 2 s
 */
export class FloodBackoff {
  /** Per address key, the times of its recent cut-offs (oldest first) and the job of the last one. */
  private readonly records = new Map<string, { times: number[]; job?: string }>()

  constructor(
    readonly opts: FloodBackoffOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** A socket from `key` (of `job`, if it had joined one) was cut off for flooding. */
  cutOff(key: string, job?: string): void {
    let r = this.records.get(key)
    if (!r) {
      if (this.records.size >= this.opts.maxRecords) this.records.delete(this.records.keys().next().value!)
      this.records.set(key, (r = { times: [] }))
    }
    this.forgetOld(r.times)
    r.times.push(this.now())
    if (job !== undefined) r.job = job
  }

  /** How long a new connection from `key` must still wait (0: admitted), and the job its last cut-off was in. */
  waitMs(key: string): { ms: number; job?: string } {
    const r = this.records.get(key)
    if (!r) return { ms: 0 }
    this.forgetOld(r.times)
    const k = r.times.length
    if (!k) return { ms: 0 }
    const hold = Math.min(this.opts.maxMs, this.opts.baseMs * 2 ** (k - 1))
    return { ms: Math.max(0, r.times[k - 1] + hold - this.now()), job: r.job }
  }

  /** Periodic: forgets cut-offs past their memory and addresses with none left. */
  prune(): void {
    for (const [key, r] of this.records) {
      this.forgetOld(r.times)
      if (!r.times.length) this.records.delete(key)
    }
  }

  get size(): number {
    return this.records.size
  }

  private forgetOld(times: number[]): void {
    const since = this.now() - this.opts.memoryMs
    while (times.length && times[0] <= since) times.shift()
  }
}
