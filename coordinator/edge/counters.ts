// What the socket edge refused or held back, counted per job (and coordinator-wide) for the job view and console.

/** Counts of the edge's defences; README "Defences" names each code. */
export interface EdgeCounters {
  /** Messages refused with ERR_RATE_LIMITED. */
  rateLimited: number
  /** Sockets closed because they kept sending over their rate. */
  floodClosed: number
  /** Hellos refused with ERR_ADDRESS_LIMIT (too many sockets from one address). */
  addressLimited: number
  /** Workers evicted with ERR_READY_TIMEOUT (hello but no ready in time). */
  readyTimeouts: number
  /** Hellos refused with ERR_BANNED (the address was banned from the job). */
  banned: number
  /** Addresses banned from the job after quarantines. */
  bannedAddresses: number
  /** Joiners whose first lease was held back after stall evictions from their address. */
  backoffs: number
  /** Connections closed for a packet over the socket.io bounds (size, attachments) or malformed. */
  badPackets: number
  /** Connections closed for not saying hello in time (coordinator-wide only: they named no job). */
  helloTimeouts: number
}

export type EdgeEvent = keyof EdgeCounters

export function emptyCounters(): EdgeCounters {
  return { rateLimited: 0, floodClosed: 0, addressLimited: 0, readyTimeouts: 0, banned: 0, bannedAddresses: 0, backoffs: 0, badPackets: 0, helloTimeouts: 0 }
}

/**
 * @example
 * const c = new EdgeCounts()
 * c.bump('j-1', 'rateLimited')
 * c.of('j-1').rateLimited   // 1
 * c.total().rateLimited     // 1
 */
export class EdgeCounts {
  private readonly byJob = new Map<string, EdgeCounters>()
  private readonly all = emptyCounters()

  /** Counts one event, under its job when the socket had one. */
  bump(job: string | undefined, event: EdgeEvent): void {
    this.all[event]++
    if (job === undefined) return
    let c = this.byJob.get(job)
    if (!c) this.byJob.set(job, (c = emptyCounters()))
    c[event]++
  }

  /** A copy of one job's counters (zeros for a job nothing happened to). */
  of(job: string): EdgeCounters {
    return { ...(this.byJob.get(job) ?? emptyCounters()) }
  }

  /** A copy of the coordinator-wide counters, events no job can be named for included. */
  total(): EdgeCounters {
    return { ...this.all }
  }
}
