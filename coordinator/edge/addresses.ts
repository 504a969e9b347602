// Who a connection comes from: its address (or a trusted proxy's word for it), the key address policies use, counts.
import type { IncomingHttpHeaders } from 'node:http'
import { isIP, isIPv4 } from 'node:net'

/**
 * The client's address: the socket's peer, or with `trustProxy` the first X-Forwarded-For entry when it is an IP.
 * Trust the header only behind a proxy that sets it (nginx: `proxy_set_header X-Forwarded-For $remote_addr`): a
 * client reaching the coordinator directly can write any address there.
 */
export function clientAddress(handshake: { address: string; headers: IncomingHttpHeaders }, trustProxy: boolean): string {
  if (trustProxy) {
    const h = handshake.headers['x-forwarded-for']
    const first = (Array.isArray(h) ? h[0] : h)?.split(',')[0]?.trim()
    if (first && isIP(first)) return first
  }
  return handshake.address
}

/**
 * The key address policies count by: an IPv4 address (also written ::ffff:a.b.c.d), or an IPv6 address's /64
 * network, since one IPv6 host usually holds a whole /64.
 *
 * @example
 * addressKey('::ffff:10.0.0.7')                 // '10.0.0.7'
 * addressKey('2001:db8:1:2:aaaa:bbbb:cccc:dddd') // '2001:db8:1:2::/64'
 */
export function addressKey(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
  if (mapped) return mapped[1]
  if (isIPv4(address) || isIP(address) !== 6 || address === '::1') return address
  const groups = expandIPv6(address)
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`
}

/** True for 127.0.0.0/8 and ::1: this host (`tabgrid run`'s tabs, tests, a proxy on the same machine). */
export function isLoopback(key: string): boolean {
  return key === '::1' || /^127\.\d+\.\d+\.\d+$/.test(key)
}

function expandIPv6(address: string): string[] {
  const bare = address.split('%')[0].toLowerCase()
  const [head, tail] = bare.includes('::') ? bare.split('::') : [bare, undefined]
  const parts = (s: string | undefined) => (s ? s.split(':') : [])
  const h = parts(head)
  const t = parts(tail)
  // an embedded IPv4 tail (::ffff:… was handled before) takes two groups
  const last = t.length ? t : h
  if (last.length && last[last.length - 1].includes('.')) {
    const [a, b, c, d] = last.pop()!.split('.').map(Number)
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16))
  }
  const fill = tail === undefined ? [] : Array<string>(8 - h.length - t.length).fill('0')
  return [...h, ...fill, ...t]
}

/** Open sockets per address key. */
export class AddressCounts {
  private readonly counts = new Map<string, number>()

  /** Counts one more socket from `key` unless it already has `max`; false leaves the count as it was. */
  tryAdd(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0
    if (n >= max) return false
    this.counts.set(key, n + 1)
    return true
  }

  remove(key: string): void {
    const n = (this.counts.get(key) ?? 0) - 1
    if (n > 0) this.counts.set(key, n)
    else this.counts.delete(key)
  }

  of(key: string): number {
    return this.counts.get(key) ?? 0
  }
}
