// One socket's message budget: what each message costs, the bucket it is paid from, refusals counted in a window.
import {
  EDGE_LOG_EVERY_MS,
  RATE_BURST_TOKENS,
  RATE_BYTES_PER_TOKEN,
  RATE_COST_JOIN,
  RATE_COST_RESEND,
  RATE_COST_UPDATE,
  RATE_REJECTIONS_TO_CLOSE,
  RATE_RESENT_BYTES_PER_TOKEN,
  RATE_TOKENS_PER_SECOND,
  RATE_WINDOW_MS,
} from '../../protocol/limits.ts'
import { LogThrottle } from './log-throttle.ts'
import { TokenBucket } from './rate-limit.ts'

/** The per-socket rate limit; every field has a default in protocol/limits.ts. */
export interface RateLimits {
  /** Tokens earned per second (a cheap message costs 1). */
  tokensPerSecond: number
  /** Most tokens saved up. */
  burst: number
  /** Frame bytes of an update received per extra token. */
  bytesPerToken: number
  /** Bytes sent back on the socket's behalf (updates resent to it) per token. */
  resentBytesPerToken: number
  /** Refusals within `windowMs` after which the socket is closed. */
  rejectionsToClose: number
  windowMs: number
  /** Repeated refusals log once per this many ms. */
  logEveryMs: number
}

export const DEFAULT_RATE_LIMITS: RateLimits = {
  tokensPerSecond: RATE_TOKENS_PER_SECOND,
  burst: RATE_BURST_TOKENS,
  bytesPerToken: RATE_BYTES_PER_TOKEN,
  resentBytesPerToken: RATE_RESENT_BYTES_PER_TOKEN,
  rejectionsToClose: RATE_REJECTIONS_TO_CLOSE,
  windowMs: RATE_WINDOW_MS,
  logEveryMs: EDGE_LOG_EVERY_MS,
}

/** What a message costs before it is parsed: by type, plus one token per `bytesPerToken` of an update's frame. */
export function messageCost(type: string, raw: unknown, bytesPerToken: number): number {
  switch (type) {
    case 'hello':
    case 'ready':
    case 'lasso-ready':
      return RATE_COST_JOIN
    case 'update': {
      const frame = (raw as { frame?: unknown } | null)?.frame
      const bytes = frame instanceof Uint8Array || frame instanceof ArrayBuffer ? frame.byteLength : 0
      return RATE_COST_UPDATE + Math.floor(bytes / bytesPerToken)
    }
    case 'resend':
    case 'report':
    case 'pause':
      return RATE_COST_RESEND
    default:
      return 1
  }
}

export type Admission = 'ok' | 'limited' | 'close'

/**
 * @example
 * const rate = new SocketRate(DEFAULT_RATE_LIMITS)
 * if (rate.admit('stats', msg) !== 'ok') reply(reject('ERR_RATE_LIMITED'))
 */
export class SocketRate {
  readonly bucket: TokenBucket
  /** Refusals since the socket connected. */
  refused = 0
  private windowStart: number
  private inWindow = 0
  private readonly lines: LogThrottle

  constructor(
    readonly limits: RateLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.bucket = new TokenBucket(limits.tokensPerSecond, limits.burst, now)
    this.windowStart = now()
    this.lines = new LogThrottle(limits.logEveryMs, now, 1)
  }

  /** Pays for a message: 'ok', or 'limited' (refuse it), or 'close' (refuse it and close: the socket keeps flooding). */
  admit(type: string, raw: unknown): Admission {
    if (this.bucket.take(messageCost(type, raw, this.limits.bytesPerToken))) return 'ok'
    this.refused++
    const t = this.now()
    if (t - this.windowStart > this.limits.windowMs) {
      this.windowStart = t
      this.inWindow = 0
    }
    return ++this.inWindow > this.limits.rejectionsToClose ? 'close' : 'limited'
  }

  /** Charges bytes the coordinator sent on this socket's behalf (updates resent to it). */
  chargeBytes(bytes: number): void {
    if (bytes > 0) this.bucket.charge(bytes / this.limits.resentBytesPerToken)
  }

  /** Whether to log this refusal: null to stay quiet, else how many refusals the line stands for. */
  logLine(): number | null {
    return this.lines.hit('refused')
  }
}
