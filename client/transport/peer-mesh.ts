// WebRTC data channels to the other workers of the job (simple-peer), signaled through the coordinator.
import type SimplePeer from 'simple-peer'
import { TabgridError } from '../../protocol/errors.ts'
import { Reassembler, toChunks } from '../../protocol/frames.ts'
import { BUFFERED_HIGH_WATER, BUFFERED_LOW_WATER } from '../../protocol/limits.ts'
import type { LinkState, SignalData } from '../../protocol/messages.ts'

type PeerCtor = new (opts: SimplePeer.Options) => SimplePeer.Instance

export interface MeshOptions {
  /** simple-peer's constructor, injected so tests and Node agents can pass their own (with `wrtc`). */
  Peer: PeerCtor
  /** Sends a signal to a peer through the coordinator. */
  signal(to: string, data: SignalData): void
  /** A link opened ('p2p') or gave up ('relay'). */
  onLink(peer: string, state: LinkState): void
  /** A whole frame arrived from a peer (reassembled, not yet checked: the receiver knows the model). */
  onFrame(from: string, frame: Uint8Array): void
  onBadFrame(from: string, err: TabgridError): void
  linkTimeoutMs: number
  rtcConfig?: RTCConfiguration
  /** false: open no data channel at all (a network that blocks WebRTC); every update goes through the relay. */
  p2p?: boolean
}

interface Link {
  peer: SimplePeer.Instance
  state: 'connecting' | LinkState
  open: Promise<LinkState>
  /** Resolves `open` (once; later calls do nothing). */
  settle: (s: LinkState) => void
  reassembler: Reassembler
  queue: Promise<void>
  nextId: number
}

/** One link per peer; the newcomer initiates, the others answer its first signal. */
export class PeerMesh {
  private readonly links = new Map<string, Link>()
  private readonly gone = new Set<string>()
  bytesSent = 0
  bytesReceived = 0
  framesRejected = 0

  constructor(private readonly opts: MeshOptions) {}

  /** Opens a link to a peer that was here first. Resolves to 'p2p' when open, 'relay' if it timed out. */
  connect(peer: string): Promise<LinkState> {
    if (this.opts.p2p === false) {
      this.opts.onLink(peer, 'relay')
      return Promise.resolve('relay')
    }
    return this.link(peer, true).open
  }

  /** A newcomer joined and will initiate; if it never does (its WebRTC is off), count the pair as relayed. */
  expect(peer: string): void {
    setTimeout(() => {
      if (!this.links.has(peer) && !this.gone.has(peer)) this.opts.onLink(peer, 'relay')
    }, this.opts.linkTimeoutMs)
  }

  /** A signal from a peer: answers it, creating the link if the peer is initiating. */
  signal(from: string, data: SignalData): void {
    if (this.opts.p2p === false) return
    const l = this.links.get(from) ?? this.link(from, false)
    if (l.state === 'relay') return
    l.peer.signal(data as SimplePeer.SignalData)
  }

  /** The peers an update can go to directly right now. */
  openPeers(): string[] {
    return [...this.links].filter(([, l]) => l.state === 'p2p').map(([id]) => id)
  }

  state(peer: string): Link['state'] | undefined {
    return this.links.get(peer)?.state
  }

  /** Queues an encoded frame to every open link (chunked, with backpressure); returns the peers it was queued for. */
  broadcast(msg: Uint8Array, only?: string[]): string[] {
    const to = only ?? this.openPeers()
    for (const id of to) {
      const l = this.links.get(id)
      if (!l || l.state !== 'p2p') continue
      const chunks = toChunks(l.nextId++, msg)
      l.queue = l.queue.then(() => this.sendChunks(id, l, chunks))
    }
    return to.filter((id) => this.links.get(id)?.state === 'p2p')
  }

  /** Resolves once every queued chunk has been handed to the data channels and their buffers drained (or timed out). */
  async flush(timeoutMs = 2000): Promise<void> {
    const end = performance.now() + timeoutMs
    const drained = async () => {
      await Promise.all([...this.links.values()].map((l) => l.queue))
      while ([...this.links.values()].some((l) => l.state === 'p2p' && l.peer.bufferSize > 0) && performance.now() < end) await new Promise((r) => setTimeout(r, 10))
    }
    await Promise.race([drained(), new Promise((r) => setTimeout(r, timeoutMs))])
  }

  drop(peer: string): void {
    this.gone.add(peer)
    const l = this.links.get(peer)
    if (!l) return
    this.links.delete(peer)
    l.peer.destroy()
    // a link still connecting settles as relayed, so whoever awaits connect() goes on without this peer
    l.settle('relay')
  }

  destroy(): void {
    for (const id of [...this.links.keys()]) this.drop(id)
  }

  private link(id: string, initiator: boolean): Link {
    const peer = new this.opts.Peer({
      initiator,
      trickle: true,
      config: this.opts.rtcConfig ?? { iceServers: [] },
      channelConfig: { ordered: true },
    })
    let settle: (s: LinkState) => void = () => {}
    const open = new Promise<LinkState>((r) => (settle = r))
    const l: Link = {
      peer,
      state: 'connecting',
      open,
      settle,
      reassembler: new Reassembler(),
      queue: Promise.resolve(),
      nextId: 1,
    }
    this.links.set(id, l)
    const giveUp = () => {
      if (this.links.get(id) !== l || l.state === 'relay') return
      l.state = 'relay'
      peer.destroy()
      this.opts.onLink(id, 'relay')
      settle('relay')
    }
    const timer = setTimeout(giveUp, this.opts.linkTimeoutMs)
    peer.on('signal', (data: SignalData) => this.opts.signal(id, data))
    peer.on('connect', () => {
      clearTimeout(timer)
      if (this.links.get(id) !== l) return
      l.state = 'p2p'
      this.opts.onLink(id, 'p2p')
      settle('p2p')
    })
    peer.on('data', (chunk: Uint8Array) => this.receive(id, l, chunk))
    peer.on('error', () => {
      clearTimeout(timer)
      giveUp()
    })
    peer.on('close', () => {
      clearTimeout(timer)
      giveUp()
    })
    return l
  }

  private receive(id: string, l: Link, chunk: Uint8Array): void {
    this.bytesReceived += chunk.byteLength
    try {
      const msg = l.reassembler.push(chunk)
      if (msg) this.opts.onFrame(id, msg)
    } catch (e) {
      this.framesRejected++
      this.opts.onBadFrame(id, e instanceof TabgridError ? e : new TabgridError('ERR_PEER_FRAME', String(e)))
    }
  }

  private async sendChunks(id: string, l: Link, chunks: Uint8Array[]): Promise<void> {
    for (const c of chunks) {
      if (this.links.get(id) !== l || l.state !== 'p2p') return
      if (l.peer.bufferSize > BUFFERED_HIGH_WATER) await this.drain(l)
      try {
        l.peer.send(c)
        this.bytesSent += c.byteLength
      } catch (e) {
        // The channel closed under us: the receiver will miss this update and ask the coordinator for it.
        console.warn(`ERR_PEER_SIGNAL: send to ${id} failed`, e)
        return
      }
    }
  }

  private async drain(l: Link): Promise<void> {
    while (l.peer.bufferSize > BUFFERED_LOW_WATER && l.state === 'p2p') await new Promise((r) => setTimeout(r, 2))
  }
}
