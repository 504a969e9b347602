// What a worker has applied from each peer, and whether the SSP read guarantee lets it start its next clock.
import type { ClockView } from '../../protocol/messages.ts'

interface Chain {
  /** Every update of this peer with clock ≤ contig has been applied (or never existed). */
  contig: number
  /** Received and applied, but not yet chained to contig: prev → clock. */
  ahead: Map<number, number>
  /** Clocks in `ahead`, for de-duplication. */
  seen: Set<number>
  /** Set when the peer left: the clock of its last update the coordinator received. */
  final?: number
}

export interface Missing {
  peer: string
  after: number
}

/**
 * Tracks each peer's chain of updates (each update names its predecessor, `prev`), so a worker knows exactly which
 * updates it has, can drop duplicates (an update may arrive both P2P and in a snapshot), and can decide the read
 * guarantee: before clock c, every update of every peer with clock ≤ c − s − 1 is applied.
 */
export class PeerClocks {
  private readonly chains = new Map<string, Chain>()

  /** `vc` is the snapshot's vector clock: per peer, the last update already inside the model. */
  constructor(
    private readonly me: string,
    vc: Record<string, number> = {},
  ) {
    for (const [p, c] of Object.entries(vc)) if (p !== me) this.chain(p).contig = c
  }

  /** Records an arriving update; false when it is a duplicate that must not be applied again. */
  accept(peer: string, clock: number, prev: number): boolean {
    if (peer === this.me) return false
    const ch = this.chain(peer)
    if (clock <= ch.contig || ch.seen.has(clock)) return false
    // After a peer left, only what reached the coordinator counts; a straggler from the data channel does not.
    if (ch.final !== undefined && clock > ch.final) return false
    ch.seen.add(clock)
    ch.ahead.set(prev, clock)
    let next = ch.ahead.get(ch.contig)
    while (next !== undefined) {
      ch.ahead.delete(ch.contig)
      ch.seen.delete(next)
      ch.contig = next
      next = ch.ahead.get(ch.contig)
    }
    return true
  }

  /** False for an update already applied, or one past a departed peer's last accepted update. */
  isNew(peer: string, clock: number): boolean {
    if (peer === this.me) return false
    const ch = this.chains.get(peer)
    if (!ch) return true
    return clock > ch.contig && !ch.seen.has(clock) && (ch.final === undefined || clock <= ch.final)
  }

  /** Per peer, the last update of its chain applied here. */
  contigs(): Record<string, number> {
    const out: Record<string, number> = {}
    for (const [p, ch] of this.chains) out[p] = ch.contig
    return out
  }

  /** A peer left; `last` is its final update clock at the coordinator: later ones are refused from now on. */
  left(peer: string, last: number): void {
    const ch = this.chain(peer)
    ch.final = ch.final === undefined ? last : Math.min(ch.final, last)
  }

  /** The peer's updates after `after` were taken back: none of them counts as applied, nor will again. */
  cut(peer: string, after: number): void {
    const ch = this.chain(peer)
    ch.contig = Math.min(ch.contig, after)
    ch.final = ch.final === undefined ? after : Math.min(ch.final, after)
    for (const [prev, clock] of ch.ahead) {
      if (clock <= after) continue
      ch.ahead.delete(prev)
      ch.seen.delete(clock)
    }
  }

  contig(peer: string): number {
    return this.chains.get(peer)?.contig ?? -1
  }

  /**
   * Peers whose updates up to min(c − s − 1, last) are not all applied yet, given the latest clock view. Empty means
   * the read guarantee holds for clock c (the caller also checks view.min ≥ c − s).
   */
  missing(view: ClockView, c: number, s: number): Missing[] {
    const horizon = c - s - 1
    if (horizon < 0) return []
    const out: Missing[] = []
    const lasts = new Map<string, number>(Object.entries(view.last))
    // a departed peer's final clock is the coordinator's last word on it (a clock view may still name a later one)
    for (const [p, ch] of this.chains) if (ch.final !== undefined) lasts.set(p, ch.final)
    for (const [p, last] of lasts) {
      if (p === this.me) continue
      const need = Math.min(horizon, last)
      const have = this.contig(p)
      if (have < need) out.push({ peer: p, after: have })
    }
    return out
  }

  /** Peers (live or departed) whose every update the coordinator holds has not arrived here yet. */
  behind(view: ClockView): Missing[] {
    return this.missing(view, Number.MAX_SAFE_INTEGER, 0)
  }

  private chain(p: string): Chain {
    let ch = this.chains.get(p)
    if (!ch) this.chains.set(p, (ch = { contig: -1, ahead: new Map(), seen: new Set() }))
    return ch
  }
}
