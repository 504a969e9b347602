// What a job remembers of an address: quarantines (a ban after enough of them) and stall evictions (lease back-off).
import { BAN_AFTER_QUARANTINES, MAX_ADDRESS_RECORDS, STALL_BACKOFF_BASE_MS, STALL_BACKOFF_MAX_MS, STALL_MEMORY_MS } from '../../protocol/limits.ts'

export interface AddressPolicyOptions {
  /** Quarantines of workers from one address after which the address is banned from the job. */
  banAfter: number
  /** How long a stall eviction counts against its address. */
  stallMemoryMs: number
  /** A joiner from an address with k recent stall evictions gets its first lease base · 2^k after its hello… */
  backoffBaseMs: number
  /** …but never later than this. */
  backoffMaxMs: number
  /** Addresses remembered per job; the oldest are forgotten past this. */
  maxRecords: number
}

export const DEFAULT_ADDRESS_POLICY: AddressPolicyOptions = {
  banAfter: BAN_AFTER_QUARANTINES,
  stallMemoryMs: STALL_MEMORY_MS,
  backoffBaseMs: STALL_BACKOFF_BASE_MS,
  backoffMaxMs: STALL_BACKOFF_MAX_MS,
  maxRecords: MAX_ADDRESS_RECORDS,
}

interface AddressRecord {
  quarantines: number
  banned: boolean
  /** Times of stall evictions, oldest first. */
  stalls: number[]
}

/**
 * @example
 * const p = new AddressPolicy(DEFAULT_ADDRESS_POLICY)
 * p.quarantined('j-1', '10.0.0.7')   // { count: 1, bannedNow: false }
 * p.quarantined('j-1', '10.0.0.7')   // { count: 2, bannedNow: true }
 * p.banned('j-1', '10.0.0.7')        // true
 */
export class AddressPolicy {
  private readonly jobs = new Map<string, Map<string, AddressRecord>>()

  constructor(
    readonly opts: AddressPolicyOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** A worker from `key` was quarantined in `job`; says whether that made the address banned. */
  quarantined(job: string, key: string): { count: number; bannedNow: boolean } {
    const r = this.record(job, key)
    r.quarantines++
    const bannedNow = !r.banned && r.quarantines >= this.opts.banAfter
    if (bannedNow) r.banned = true
    return { count: r.quarantines, bannedNow }
  }

  banned(job: string, key: string): boolean {
    return this.jobs.get(job)?.get(key)?.banned ?? false
  }

  /** Addresses banned from `job`. */
  bannedCount(job: string): number {
    let n = 0
    for (const r of this.jobs.get(job)?.values() ?? []) if (r.banned) n++
    return n
  }

  /** A worker from `key` was evicted from `job` for stalling. */
  stalled(job: string, key: string): void {
    const r = this.record(job, key)
    this.forgetOldStalls(r)
    r.stalls.push(this.now())
  }

  /** How long after its hello a joiner from `key` must wait for its first lease (0: no wait). */
  backoffMs(job: string, key: string): number {
    const r = this.jobs.get(job)?.get(key)
    if (!r) return 0
    this.forgetOldStalls(r)
    const k = r.stalls.length
    return k === 0 ? 0 : Math.min(this.opts.backoffMaxMs, this.opts.backoffBaseMs * 2 ** k)
  }

  /** Forgets what no longer matters: stalls past their memory, addresses with nothing left, jobs that are gone. */
  prune(liveJobs?: ReadonlySet<string>): void {
    for (const [job, records] of this.jobs) {
      if (liveJobs && !liveJobs.has(job)) {
        this.jobs.delete(job)
        continue
      }
      for (const [key, r] of records) {
        this.forgetOldStalls(r)
        if (!r.banned && r.quarantines === 0 && r.stalls.length === 0) records.delete(key)
      }
    }
  }

  private record(job: string, key: string): AddressRecord {
    let records = this.jobs.get(job)
    if (!records) this.jobs.set(job, (records = new Map()))
    let r = records.get(key)
    if (!r) {
      if (records.size >= this.opts.maxRecords) records.delete(records.keys().next().value!)
      records.set(key, (r = { quarantines: 0, banned: false, stalls: [] }))
    }
    return r
  }

  private forgetOldStalls(r: AddressRecord): void {
    const since = this.now() - this.opts.stallMemoryMs
    while (r.stalls.length && r.stalls[0] <= since) r.stalls.shift()
  }
}
