// A seeded in-memory stand-in for simple-peer: links that connect (or never do), delay, keep order, drop on demand.
import { EventEmitter } from 'node:events'
import type SimplePeer from 'simple-peer'
import { mulberry32 } from '../helpers/random.ts'

/** simple-peer's constructor type, as a worker's mesh takes it. */
export type PeerCtor = new (o: SimplePeer.Options) => SimplePeer.Instance

export interface NetOptions {
  seed: number
  latencyMs: [number, number]
  /** Links that never open (the pair falls back to the relay). Keyed by the two peers' creation order. */
  blockLink?(a: number, b: number): boolean
  /** Drops a data chunk (a lossy link the receiver must recover from). */
  dropChunk?(from: number, seq: number): boolean
}

export class FakeNet {
  private readonly rand: () => number
  private readonly peers = new Map<string, FakePeer>()
  private count = 0
  delivered = 0
  dropped = 0

  constructor(readonly opts: NetOptions) {
    this.rand = mulberry32(opts.seed)
  }

  delay(): number {
    const [a, b] = this.opts.latencyMs
    return a + this.rand() * (b - a)
  }

  /** simple-peer's constructor, bound to this network. */
  get Peer(): PeerCtor {
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const net = this
    return class extends FakePeer {
      constructor(o: SimplePeer.Options) {
        super(net, o)
      }
    } as unknown as PeerCtor
  }

  register(p: FakePeer): number {
    this.peers.set(p.token, p)
    return this.count++
  }

  find(token: string): FakePeer | undefined {
    return this.peers.get(token)
  }
}

class FakePeer extends EventEmitter {
  readonly token = Math.random().toString(36).slice(2)
  readonly index: number
  remote?: FakePeer
  destroyed = false
  bufferSize = 0
  private readonly queue: Array<{ at: number; data: Uint8Array }> = []
  private seq = 0

  constructor(
    private readonly net: FakeNet,
    o: SimplePeer.Options,
  ) {
    super()
    this.index = net.register(this)
    if (o.initiator) setTimeout(() => this.emit('signal', { type: 'offer', sdp: `fake:${this.token}` }), 1)
  }

  signal(data: { type: string; sdp?: string }): void {
    if (this.destroyed || !data.sdp) return
    const other = this.net.find(data.sdp.slice(5))
    if (!other) return
    if (data.type === 'offer') setTimeout(() => this.emit('signal', { type: 'answer', sdp: `fake:${this.token}` }), 1)
    if (data.type !== 'answer') return
    if (this.net.opts.blockLink?.(Math.min(this.index, other.index), Math.max(this.index, other.index))) return
    setTimeout(() => {
      if (this.destroyed || other.destroyed) return
      this.remote = other
      other.remote = this
      this.emit('connect')
      other.emit('connect')
    }, this.net.delay())
  }

  send(chunk: Uint8Array): void {
    if (this.destroyed || !this.remote) throw new Error('not connected')
    const to = this.remote
    const copy = new Uint8Array(chunk)
    if (this.net.opts.dropChunk?.(this.index, this.seq++)) {
      this.net.dropped++
      return
    }
    // in order, like a reliable ordered data channel: one queue per direction, drained by one timer
    this.queue.push({ at: performance.now() + this.net.delay(), data: copy })
    if (this.queue.length === 1) this.drainSoon()
  }

  private drainSoon(): void {
    const head = this.queue[0]
    if (!head) return
    setTimeout(() => {
      const now = performance.now()
      while (this.queue.length && this.queue[0].at <= now) {
        const { data } = this.queue.shift()!
        const to = this.remote
        if (!to || to.destroyed) continue
        this.net.delivered++
        to.emit('data', data)
      }
      this.drainSoon()
    }, Math.max(0, head.at - performance.now()))
  }

  destroy(): void {
    if (this.destroyed) return
    this.destroyed = true
    const r = this.remote
    this.remote = undefined
    if (r && !r.destroyed) setTimeout(() => r.emit('close'), 1)
    this.emit('close')
  }
}
