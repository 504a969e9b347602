// What the socket edge refused or held back, counted per job (and coordinator-wide) for the job view and console.
import type { EdgeView } from '../../protocol/job.ts'

/** Counts of the edge's defences; declared with the job view (protocol/job.ts), README "Defences" names each code. */
export type EdgeCounters = EdgeView

export type EdgeEvent = keyof EdgeCounters

export function emptyCounters(): EdgeCounters {
  return { rateLimited: 0, floodClosed: 0, floodRefused: 0, addressLimited: 0, readyTimeouts: 0, banned: 0, bannedAddresses: 0, backoffs: 0, badPackets: 0, helloTimeouts: 0 }
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
