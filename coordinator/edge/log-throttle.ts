// Throttled log lines: one line per key per interval, saying how many events it stands for.

/**
 * @example
 * const lines = new LogThrottle(10_000)
 * const n = lines.hit(`banned ${job} ${address}`)
 * if (n !== null) log.warn({ job, address, count: n }, 'hello refused: address banned')
 */
export class LogThrottle {
  private readonly keys = new Map<string, { at: number; unlogged: number }>()
  private swept: number

  constructor(
    readonly everyMs: number,
    private readonly now: () => number = () => performance.now(),
    /** Keys remembered; the oldest are forgotten past this (an attacker with many addresses cannot grow it). */
    readonly maxKeys = 10_000,
  ) {
    this.swept = now()
  }

  /** Counts one event under `key`: null to stay quiet, else the number of events since the last line (this one too). */
  hit(key: string): number | null {
    const t = this.now()
    this.sweep(t)
    let k = this.keys.get(key)
    if (!k) {
      if (this.keys.size >= this.maxKeys) this.keys.delete(this.keys.keys().next().value!)
      k = { at: -Infinity, unlogged: 0 }
      this.keys.set(key, k)
    }
    k.unlogged++
    if (t - k.at < this.everyMs) return null
    const n = k.unlogged
    k.at = t
    k.unlogged = 0
    return n
  }

  /** Keys remembered now. */
  get size(): number {
    return this.keys.size
  }

  /**
   * At most once per interval, forgets the keys whose line is older than the interval with nothing unlogged since: a
   * hit on them would log at once anyway. Keys name workers and addresses, so this is what lets departed ones go.
   */
  private sweep(t: number): void {
    if (t - this.swept < this.everyMs) return
    this.swept = t
    for (const [key, k] of this.keys) if (k.unlogged === 0 && t - k.at >= this.everyMs) this.keys.delete(key)
  }
}
