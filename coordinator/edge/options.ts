// The socket edge's knobs (ServerOptions takes them; the CLI sets some), with their defaults from protocol/limits.ts.
import {
  FLOOD_BACKOFF_BASE_MS,
  FLOOD_BACKOFF_MAX_MS,
  FLOOD_MEMORY_MS,
  HELLO_TIMEOUT_MS,
  MAX_ADDRESS_RECORDS,
  MAX_SOCKETS_PER_ADDRESS,
  READY_TIMEOUT_LINK_FACTOR,
  READY_TIMEOUT_MS,
} from '../../protocol/limits.ts'
import type { FloodBackoffOptions } from './flood-backoff.ts'
import { DEFAULT_ADDRESS_POLICY, type AddressPolicyOptions } from './address-policy.ts'
import { DEFAULT_RATE_LIMITS, type RateLimits } from './socket-rate.ts'

export interface EdgeOptions {
  /** Per-socket message budget (token bucket); any field left out keeps its default. */
  rateLimit?: Partial<RateLimits>
  /** Most concurrent sockets per client address (an IPv6 /64 counts as one); default 32 (CLI --max-per-address). */
  maxPerAddress?: number
  /**
   * Take the client's address from the first X-Forwarded-For entry (CLI --trust-proxy). Set it behind a reverse proxy
   * that writes that header, else every volunteer has the proxy's address; never without one, since clients can
   * write the header themselves. Tests use it too: a Node worker's socket.io-client sets the header through
   * `extraHeaders: { 'x-forwarded-for': '10.0.0.7' }`, which gives each simulated worker its own address.
   */
  trustProxy?: boolean
  /**
   * Leave loopback addresses (127.0.0.0/8, ::1) out of the address policies: the per-address cap, bans and lease
   * back-off. Default true: `tabgrid run` opens its tabs on this host, and a proxy on this host without trustProxy
   * makes every volunteer look like 127.0.0.1. Per-socket limits (rate, packet bounds, deadlines) apply to everyone.
   */
  exemptLoopback?: boolean
  /** A socket that has not said hello this long after connecting is closed. */
  helloTimeoutMs?: number
  /** Hello to ready deadline; the effective one is at least 3 × the job's linkTimeoutMs. Default 60 s. */
  readyTimeoutMs?: number
  /** Quarantines from one address after which it is banned from the job; default 2 (one NAT holds many tabs). */
  banAfter?: number
  /** Lease back-off after stall evictions from an address: memory, base and cap (ms). */
  stallMemoryMs?: number
  backoffBaseMs?: number
  backoffMaxMs?: number
  /** Connections from an address refused after its sockets were cut off for flooding: base and cap (ms). */
  floodBackoffBaseMs?: number
  floodBackoffMaxMs?: number
}

export interface EdgeSettings {
  rate: RateLimits
  maxPerAddress: number
  trustProxy: boolean
  exemptLoopback: boolean
  helloTimeoutMs: number
  readyTimeoutMs: number
  policy: AddressPolicyOptions
  flood: FloodBackoffOptions
}

export function edgeSettings(o: EdgeOptions = {}): EdgeSettings {
  const positive = (name: string, v: number | undefined, d: number) => {
    if (v === undefined) return d
    if (!(Number.isFinite(v) && v > 0)) throw new RangeError(`${name} must be a positive number, got ${v}`)
    return v
  }
  const rate = { ...DEFAULT_RATE_LIMITS, ...o.rateLimit }
  for (const [k, v] of Object.entries(rate)) positive(`rateLimit.${k}`, v, 1)
  return {
    rate,
    maxPerAddress: positive('maxPerAddress', o.maxPerAddress, MAX_SOCKETS_PER_ADDRESS),
    trustProxy: o.trustProxy ?? false,
    exemptLoopback: o.exemptLoopback ?? true,
    helloTimeoutMs: positive('helloTimeoutMs', o.helloTimeoutMs, HELLO_TIMEOUT_MS),
    readyTimeoutMs: positive('readyTimeoutMs', o.readyTimeoutMs, READY_TIMEOUT_MS),
    policy: {
      ...DEFAULT_ADDRESS_POLICY,
      banAfter: positive('banAfter', o.banAfter, DEFAULT_ADDRESS_POLICY.banAfter),
      stallMemoryMs: positive('stallMemoryMs', o.stallMemoryMs, DEFAULT_ADDRESS_POLICY.stallMemoryMs),
      backoffBaseMs: positive('backoffBaseMs', o.backoffBaseMs, DEFAULT_ADDRESS_POLICY.backoffBaseMs),
      backoffMaxMs: positive('backoffMaxMs', o.backoffMaxMs, DEFAULT_ADDRESS_POLICY.backoffMaxMs),
    },
    flood: {
      baseMs: positive('floodBackoffBaseMs', o.floodBackoffBaseMs, FLOOD_BACKOFF_BASE_MS),
      maxMs: positive('floodBackoffMaxMs', o.floodBackoffMaxMs, FLOOD_BACKOFF_MAX_MS),
      memoryMs: FLOOD_MEMORY_MS,
      maxRecords: MAX_ADDRESS_RECORDS,
    },
  }
}

/** The hello → ready deadline for a job: the configured one, but never under 3 × its link-setup timeout. */
export function readyDeadlineMs(s: EdgeSettings, linkTimeoutMs: number): number {
  return Math.max(s.readyTimeoutMs, READY_TIMEOUT_LINK_FACTOR * linkTimeoutMs)
}
