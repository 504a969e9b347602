// A token bucket on an injected clock: a rate and a burst, no timers, no I/O.

/**
 * Holds up to `burst` tokens and earns `ratePerSecond` of them as time passes. `take` spends tokens only if there are
 * enough; `charge` spends what a message turned out to cost after the fact, down to a debt of one burst.
 *
 * @example
 * let t = 0
 * const b = new TokenBucket(10, 20, () => t)
 * b.take(20)   // true: the burst
 * b.take(1)    // false: empty
 * t = 100      // 100 ms later: 1 token earned
 * b.take(1)    // true
 */
export class TokenBucket {
  private tokens: number
  private last: number

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (!(ratePerSecond > 0 && burst > 0)) throw new RangeError(`a token bucket needs a positive rate and burst, got ${ratePerSecond}/s and ${burst}`)
    this.tokens = burst
    this.last = now()
  }

  /** Spends `cost` tokens when there are that many (a cost over the burst counts as the burst); false spends nothing. */
  take(cost: number): boolean {
    this.refill()
    const c = Math.min(cost, this.burst)
    if (this.tokens < c) return false
    this.tokens -= c
    return true
  }

  /** Spends tokens already used (a reply's bytes); the bucket may owe up to one burst, which later earnings repay. */
  charge(cost: number): void {
    this.refill()
    this.tokens = Math.max(-this.burst, this.tokens - cost)
  }

  /** The tokens there are now (negative while in debt). */
  get available(): number {
    this.refill()
    return this.tokens
  }

  private refill(): void {
    const t = this.now()
    if (t > this.last) this.tokens = Math.min(this.burst, this.tokens + ((t - this.last) * this.ratePerSecond) / 1000)
    this.last = Math.max(this.last, t)
  }
}
