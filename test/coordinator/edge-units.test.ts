// The socket edge's pure parts: token bucket, message costs and flood verdicts, addresses, bans and back-off, packet bounds.
import { Encoder, PacketType } from 'socket.io-parser'
import { describe, expect, it } from 'vitest'
import { AddressPolicy, DEFAULT_ADDRESS_POLICY } from '../../coordinator/edge/address-policy.ts'
import { AddressCounts, addressKey, clientAddress, isLoopback } from '../../coordinator/edge/addresses.ts'
import { EdgeCounts } from '../../coordinator/edge/counters.ts'
import { FloodBackoff } from '../../coordinator/edge/flood-backoff.ts'
import { LogThrottle } from '../../coordinator/edge/log-throttle.ts'
import { edgeSettings, readyDeadlineMs } from '../../coordinator/edge/options.ts'
import { boundedParser } from '../../coordinator/edge/parser.ts'
import { TokenBucket } from '../../coordinator/edge/rate-limit.ts'
import { DEFAULT_RATE_LIMITS, messageCost, SocketRate } from '../../coordinator/edge/socket-rate.ts'
import { RATE_BURST_TOKENS, RATE_COST_UPDATE } from '../../protocol/limits.ts'

function clock(start = 0) {
  const c = { t: start, now: () => c.t }
  return c
}

describe('TokenBucket', () => {
  it('spends a burst, then earns at its rate; a refused take spends nothing', () => {
    const c = clock()
    const b = new TokenBucket(10, 20, c.now)
    expect(b.take(15)).toBe(true)
    expect(b.take(6)).toBe(false)
    expect(b.available).toBe(5)
    c.t = 100
    expect(b.take(6)).toBe(true)
    c.t = 100_000
    expect(b.available).toBe(20)
  })

  it('charges after the fact into a debt of at most one burst, repaid by later earnings', () => {
    const c = clock()
    const b = new TokenBucket(100, 50, c.now)
    b.charge(500)
    expect(b.available).toBe(-50)
    expect(b.take(1)).toBe(false)
    c.t = 510
    expect(b.take(1)).toBe(true)
  })

  it('a clock that steps back neither earns nor loses', () => {
    const c = clock(1000)
    const b = new TokenBucket(10, 10, c.now)
    b.take(10)
    c.t = 0
    expect(b.available).toBe(0)
  })
})

describe('SocketRate', () => {
  it('charges updates more than stats, and more for bigger frames', () => {
    const stats = messageCost('stats', {}, 65536)
    const small = messageCost('update', { frame: new Uint8Array(100) }, 65536)
    const big = messageCost('update', { frame: new Uint8Array(10 * 65536) }, 65536)
    expect(stats).toBe(1)
    expect(small).toBe(RATE_COST_UPDATE)
    expect(big).toBe(RATE_COST_UPDATE + 10)
    expect(messageCost('resend', {}, 65536)).toBeGreaterThan(small)
    expect(messageCost('update', 'garbage', 65536)).toBe(RATE_COST_UPDATE)
  })

  it('refuses over the budget, and says close once refusals in a window pass the limit', () => {
    const c = clock()
    const r = new SocketRate({ ...DEFAULT_RATE_LIMITS, tokensPerSecond: 10, burst: 5, rejectionsToClose: 3, windowMs: 1000 }, c.now)
    const verdicts = Array.from({ length: 9 }, () => r.admit('stats', {}))
    expect(verdicts).toEqual(['ok', 'ok', 'ok', 'ok', 'ok', 'limited', 'limited', 'limited', 'close'])
    c.t = 5000 // a new window, a full bucket
    expect(r.admit('stats', {})).toBe('ok')
    expect(r.refused).toBe(4)
  })

  it('logs the first refusal, then one line per interval standing for the rest', () => {
    const c = clock()
    const r = new SocketRate({ ...DEFAULT_RATE_LIMITS, logEveryMs: 10_000 }, c.now)
    expect(r.logLine()).toBe(1)
    expect([r.logLine(), r.logLine(), r.logLine()]).toEqual([null, null, null])
    c.t = 10_000
    expect(r.logLine()).toBe(4)
  })

  it('the defaults let a fast honest worker through: 1000 small updates a second, a 600-signal link burst, stats', () => {
    const c = clock()
    const r = new SocketRate(DEFAULT_RATE_LIMITS, c.now)
    for (let i = 0; i < 600; i++) expect(r.admit('signal', {})).toBe('ok')
    const frame = new Uint8Array(40_000)
    for (let ms = 0; ms < 10_000; ms++) {
      c.t = ms
      expect(r.admit('update', { frame })).toBe('ok')
      if (ms % 50 === 0) expect(r.admit('lease', {})).toBe('ok')
      if (ms % 2000 === 0) expect(r.admit('stats', {})).toBe('ok')
    }
    expect(r.refused).toBe(0)
  })
})

describe('LogThrottle and EdgeCounts', () => {
  it('throttles per key and forgets the oldest key past its bound', () => {
    const c = clock()
    const l = new LogThrottle(1000, c.now, 2)
    expect([l.hit('a'), l.hit('a'), l.hit('b'), l.hit('c')]).toEqual([1, null, 1, 1])
    expect(l.hit('a')).toBe(1) // 'a' was forgotten: a fresh line
  })

  it('counts per job and coordinator-wide, copies out', () => {
    const c = new EdgeCounts()
    c.bump('j-1', 'rateLimited')
    c.bump(undefined, 'helloTimeouts')
    const one = c.of('j-1')
    one.rateLimited = 99
    expect(c.of('j-1')).toMatchObject({ rateLimited: 1, helloTimeouts: 0 })
    expect(c.of('j-2').rateLimited).toBe(0)
    expect(c.total()).toMatchObject({ rateLimited: 1, helloTimeouts: 1 })
  })
})

describe('addresses', () => {
  it('trusts X-Forwarded-For only when told, and only its first entry when it is an IP', () => {
    const hs = (xff?: string) => ({ address: '127.0.0.1', headers: xff ? { 'x-forwarded-for': xff } : {} })
    expect(clientAddress(hs('10.0.0.7, 10.1.1.1'), false)).toBe('127.0.0.1')
    expect(clientAddress(hs('10.0.0.7, 10.1.1.1'), true)).toBe('10.0.0.7')
    expect(clientAddress(hs('not-an-ip'), true)).toBe('127.0.0.1')
    expect(clientAddress(hs(), true)).toBe('127.0.0.1')
  })

  it('keys IPv4 as it is (mapped too) and IPv6 by its /64; knows loopback', () => {
    expect(addressKey('::ffff:10.0.0.7')).toBe('10.0.0.7')
    expect(addressKey('10.0.0.7')).toBe('10.0.0.7')
    expect(addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd')).toBe('2001:db8:1:2::/64')
    expect(addressKey('2001:db8:1:2::1')).toBe(addressKey('2001:0db8:0001:0002:ffff::9'))
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64')
    expect(addressKey('::1')).toBe('::1')
    expect(['127.0.0.1', '::ffff:127.9.9.9', '::1', '10.0.0.1', '::2'].map((a) => isLoopback(addressKey(a)))).toEqual([true, true, true, false, false])
  })

  it('counts sockets per address up to a cap', () => {
    const a = new AddressCounts()
    expect([a.tryAdd('x', 2), a.tryAdd('x', 2), a.tryAdd('x', 2)]).toEqual([true, true, false])
    a.remove('x')
    expect(a.tryAdd('x', 2)).toBe(true)
    a.remove('x')
    a.remove('x')
    expect(a.of('x')).toBe(0)
  })
})

describe('AddressPolicy', () => {
  it('bans an address from a job after banAfter quarantines, not from other jobs', () => {
    const p = new AddressPolicy({ ...DEFAULT_ADDRESS_POLICY, banAfter: 2 })
    expect(p.quarantined('j-1', 'a')).toEqual({ count: 1, bannedNow: false })
    expect(p.banned('j-1', 'a')).toBe(false)
    expect(p.quarantined('j-1', 'a')).toEqual({ count: 2, bannedNow: true })
    expect(p.quarantined('j-1', 'a')).toEqual({ count: 3, bannedNow: false })
    expect([p.banned('j-1', 'a'), p.banned('j-2', 'a'), p.banned('j-1', 'b')]).toEqual([true, false, false])
    expect(p.bannedCount('j-1')).toBe(1)
    p.prune(new Set(['j-2']))
    expect(p.banned('j-1', 'a')).toBe(false) // the job is gone
  })

  it('backs off 2^k × base after k stall evictions within the memory, capped, forgetting old ones', () => {
    const c = clock()
    const p = new AddressPolicy({ ...DEFAULT_ADDRESS_POLICY, backoffBaseMs: 1000, backoffMaxMs: 5000, stallMemoryMs: 60_000 }, c.now)
    expect(p.backoffMs('j', 'a')).toBe(0)
    p.stalled('j', 'a')
    expect(p.backoffMs('j', 'a')).toBe(2000)
    c.t = 10_000
    p.stalled('j', 'a')
    expect(p.backoffMs('j', 'a')).toBe(4000)
    p.stalled('j', 'a')
    expect(p.backoffMs('j', 'a')).toBe(5000)
    c.t = 60_001 // the first stall is forgotten
    expect(p.backoffMs('j', 'a')).toBe(4000)
    c.t = 200_000
    p.prune()
    expect(p.backoffMs('j', 'a')).toBe(0)
  })
})

describe('options', () => {
  it('the ready deadline is never under 3 × the job’s link timeout; bad knobs are refused', () => {
    const s = edgeSettings({ readyTimeoutMs: 1000 })
    expect(readyDeadlineMs(s, 100)).toBe(1000)
    expect(readyDeadlineMs(s, 8000)).toBe(24_000)
    expect(edgeSettings().rate.burst).toBe(RATE_BURST_TOKENS)
    expect(() => edgeSettings({ maxPerAddress: 0 })).toThrow(/maxPerAddress/)
    expect(() => edgeSettings({ rateLimit: { burst: -1 } })).toThrow(/burst/)
  })
})

describe('the bounded socket.io decoder', () => {
  const { Decoder } = boundedParser({ maxAttachments: 1, maxTextChars: 1000, maxBinaryBytes: 4096, packetsPerSecond: 1000, packetBurst: 10 })
  const encode = (data: unknown[]) => new Encoder().encode({ type: PacketType.EVENT, nsp: '/', data, id: 1 }) as Array<string | Uint8Array>

  it('decodes an update with one attachment', () => {
    const d = new Decoder()
    const got: unknown[] = []
    d.on('decoded', (p: unknown) => got.push(p))
    for (const chunk of encode(['update', { frame: new Uint8Array(4096) }])) d.add(chunk)
    expect(got).toHaveLength(1)
  })

  it('refuses a packet announcing two attachments at its header, before any binary is held', () => {
    const [header] = encode(['update', { a: new Uint8Array(8), b: new Uint8Array(8) }])
    expect(() => new Decoder().add(header)).toThrow(/too many attachments/)
  })

  it('refuses long text packets and big attachments', () => {
    expect(() => new Decoder().add(`2["stats","${'x'.repeat(1000)}"]`)).toThrow(/text packet/)
    const [header] = encode(['update', { frame: new Uint8Array(8) }])
    const d = new Decoder()
    d.add(header)
    expect(() => d.add(new Uint8Array(4097))).toThrow(/binary attachment/)
  })

  it('closes a connection that sends packets faster than its cap, whatever they are (acks no handler sees)', () => {
    const d = new Decoder()
    for (let i = 0; i < 10; i++) d.add(`3${i}[]`)
    expect(() => d.add('311[]')).toThrow(/packets a second/)
  })
})

describe('FloodBackoff', () => {
  it('holds an address off for base · 2^(k−1) after its k-th cut-off, up to the cap, and forgets cut-offs past their memory', () => {
    let t = 0
    const b = new FloodBackoff({ baseMs: 1000, maxMs: 5000, memoryMs: 60_000, maxRecords: 2 }, () => t)
    expect(b.waitMs('a').ms).toBe(0)
    b.cutOff('a', 'j-1')
    expect(b.waitMs('a')).toEqual({ ms: 1000, job: 'j-1' })
    t = 999
    expect(b.waitMs('a').ms).toBe(1)
    t = 1000
    expect(b.waitMs('a').ms).toBe(0)
    for (const k of [2, 3, 4, 5]) {
      b.cutOff('a')
      expect(b.waitMs('a').ms).toBe(Math.min(5000, 1000 * 2 ** (k - 1)))
    }
    expect(b.waitMs('b').ms).toBe(0)
    // past the memory, every cut-off is forgotten, and prune drops the address
    t += 60_001
    expect(b.waitMs('a').ms).toBe(0)
    b.prune()
    expect(b.size).toBe(0)
    // at most maxRecords addresses: the oldest goes
    for (const k of ['x', 'y', 'z']) b.cutOff(k)
    expect(b.size).toBe(2)
    expect(b.waitMs('x').ms).toBe(0)
    expect(b.waitMs('z').ms).toBe(1000)
  })
})
