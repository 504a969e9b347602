// The socket edge's shared state: per-address socket counts, the address policy, the counters, throttled log lines.
import type { IncomingHttpHeaders } from 'node:http'
import type { Logger } from 'pino'
import { reject, type Rejection } from '../../protocol/errors.ts'
import { AddressPolicy } from './address-policy.ts'
import { AddressCounts, addressKey, clientAddress, isLoopback } from './addresses.ts'
import { EdgeCounts, type EdgeEvent } from './counters.ts'
import { FloodBackoff } from './flood-backoff.ts'
import { LogThrottle } from './log-throttle.ts'
import { edgeSettings, type EdgeOptions, type EdgeSettings } from './options.ts'

/** Where one connection comes from, as the edge's policies see it. */
export interface Origin {
  /** The client's address (the peer's, or a trusted proxy's X-Forwarded-For). */
  address: string
  /** What address policies count by (an IPv6 /64 as one). */
  key: string
  /** False for loopback addresses when they are exempt: no per-address cap, ban or back-off. */
  policed: boolean
  /** Counted towards its address's sockets (false once over the cap, or not policed). */
  counted: boolean
  /** Over the per-address cap: its hello gets ERR_ADDRESS_LIMIT. */
  overLimit: boolean
}

/**
 * @example
 * const edge = new Edge({ maxPerAddress: 8, trustProxy: true }, log)
 * const origin = edge.connect(socket.handshake)
 * if (origin.overLimit) …
 */
export class Edge {
  readonly settings: EdgeSettings
  readonly counts = new EdgeCounts()
  readonly policy: AddressPolicy
  readonly floods: FloodBackoff
  readonly sockets = new AddressCounts()
  private readonly lines: LogThrottle

  constructor(
    opts: EdgeOptions,
    readonly log: Logger,
    readonly now: () => number = Date.now,
  ) {
    this.settings = edgeSettings(opts)
    this.policy = new AddressPolicy(this.settings.policy, now)
    this.floods = new FloodBackoff(this.settings.flood, now)
    this.lines = new LogThrottle(this.settings.rate.logEveryMs, now)
  }

  /** A new connection: where it comes from, counted towards its address's cap. */
  connect(handshake: { address: string; headers: IncomingHttpHeaders }): Origin {
    const { address, key, policed } = this.origin(handshake)
    const counted = policed && this.sockets.tryAdd(key, this.settings.maxPerAddress)
    return { address, key, policed, counted, overLimit: policed && !counted }
  }

  /**
   * The edge's word on a connection before its websocket upgrade (engine.io's `allowRequest`): a reason to refuse it
   * (counted and logged) while its address is backing off after flood cut-offs, or null.
   */
  admitConnection(handshake: { address: string; headers: IncomingHttpHeaders }): string | null {
    const o = this.origin(handshake)
    if (!o.policed) return null
    const wait = this.floods.waitMs(o.key)
    if (wait.ms === 0) return null
    this.record(wait.job, { ...o, counted: false, overLimit: false }, 'floodRefused', { code: 'ERR_RATE_LIMITED', waitMs: Math.ceil(wait.ms) }, 'connection refused: its address was cut off for flooding')
    return `ERR_RATE_LIMITED: this address flooded the coordinator; connect again in ${Math.ceil(wait.ms / 1000)} s`
  }

  /** A socket was cut off for flooding: its address's next connections back off. */
  flooded(job: string | undefined, o: Origin): void {
    if (o.policed) this.floods.cutOff(o.key, job)
  }

  private origin(handshake: { address: string; headers: IncomingHttpHeaders }): Pick<Origin, 'address' | 'key' | 'policed'> {
    const address = clientAddress(handshake, this.settings.trustProxy)
    const key = addressKey(address)
    return { address, key, policed: !(this.settings.exemptLoopback && isLoopback(key)) }
  }

  disconnect(o: Origin): void {
    if (o.counted) this.sockets.remove(o.key)
    o.counted = false
  }

  /** Counts what the edge refused or held back and logs it (one line per job, address and event per interval). */
  record(job: string | undefined, o: Origin, event: EdgeEvent, fields: Record<string, unknown>, msg: string): void {
    this.counts.bump(job, event)
    const n = this.lines.hit(`${event} ${job ?? ''} ${o.key}`)
    if (n !== null) this.log.warn({ ...fields, job, address: o.address, event, ...(n > 1 ? { count: n } : {}) }, msg)
  }

  /** The edge's word on a hello for `job`: a refusal (counted and logged; the caller closes the socket) or null. */
  admitHello(job: string, o: Origin): Rejection | null {
    const max = this.settings.maxPerAddress
    if (o.overLimit) {
      this.record(job, o, 'addressLimited', { limit: max, code: 'ERR_ADDRESS_LIMIT' }, 'hello refused: too many connections from the address')
      return reject('ERR_ADDRESS_LIMIT', `more than ${max} connections from this address`)
    }
    if (o.policed && this.policy.banned(job, o.key)) {
      this.record(job, o, 'banned', { code: 'ERR_BANNED' }, 'hello refused: address banned from the job')
      return reject('ERR_BANNED', `this address is banned from job ${job}`)
    }
    return null
  }

  /** A worker joined: the time (this clock) before which its leases are held back, if its address recently stalled. */
  leaseAfter(job: string, worker: string, o: Origin): number | undefined {
    const wait = o.policed ? this.policy.backoffMs(job, o.key) : 0
    if (wait === 0) return undefined
    this.record(job, o, 'backoffs', { worker, waitMs: wait }, 'joiner from an address with recent stall evictions: first lease held back')
    return this.now() + wait
  }

  /** The job core evicted a worker: quarantines count towards a ban of its address, stalls towards lease back-off. */
  evicted(job: string, worker: string, o: Origin, why: Rejection): void {
    if (why.code === 'ERR_QUARANTINED') {
      if (!o.policed) {
        this.log.warn({ job, worker, address: o.address, code: why.code }, 'worker quarantined; its address is exempt from bans (loopback)')
        return
      }
      const { count, bannedNow } = this.policy.quarantined(job, o.key)
      this.log.warn({ job, worker, address: o.address, code: why.code, quarantines: count, banAfter: this.settings.policy.banAfter }, 'worker quarantined')
      if (bannedNow) {
        this.counts.bump(job, 'bannedAddresses')
        this.log.warn({ job, address: o.address, key: o.key, quarantines: count, code: 'ERR_BANNED' }, 'address banned from the job')
      }
    } else if (why.code === 'ERR_STALLED' && o.policed) {
      this.policy.stalled(job, o.key)
      this.log.info({ job, worker, address: o.address, code: why.code, backoffMs: this.policy.backoffMs(job, o.key) }, 'worker stalled; joiners from its address wait for leases')
    }
  }

  /** Periodic: forgets old stall records and the records of jobs that are gone. */
  prune(liveJobs: ReadonlySet<string>): void {
    this.policy.prune(liveJobs)
    this.floods.prune()
  }
}
