// The log of recent updates per sender (their sf parts as frames), kept so a worker that missed one can ask again.

export interface LoggedUpdate {
  from: string
  clock: number
  prev: number
  frame: Uint8Array
  /** Payload bytes per tensor in the frame, for the traffic accounting of a resend. */
  sizes: Array<{ tensor: number; bytes: number }>
  /** SHA-256 of `frame` (hex): what direct receivers compare the data channel's copy with. */
  digest: string
  /** The peers the sender said it sent the frame to directly. */
  direct: ReadonlySet<string>
}

/** How many clocks below the job's read horizon (min − s − 1) updates stay available for resend. */
export const LOG_MARGIN_CLOCKS = 256

export class UpdateLog {
  private readonly bySender = new Map<string, LoggedUpdate[]>()

  add(u: LoggedUpdate): void {
    let list = this.bySender.get(u.from)
    if (!list) this.bySender.set(u.from, (list = []))
    list.push(u)
  }

  /** Updates of `from` with clock > after, oldest first; `truncated` when some may have been dropped already. */
  since(from: string, after: number): { updates: LoggedUpdate[]; truncated: boolean } {
    const list = this.bySender.get(from) ?? []
    const updates = list.filter((u) => u.clock > after)
    const first = list[0]
    const truncated = first !== undefined && first.prev > after
    return { updates, truncated }
  }

  get(from: string, clock: number): LoggedUpdate | undefined {
    const list = this.bySender.get(from)
    if (!list) return undefined
    for (let i = list.length - 1; i >= 0; i--) if (list[i].clock === clock) return list[i]
    return undefined
  }

  /** Senders with entries (departed ones stay until trimmed past). */
  get senders(): number {
    return this.bySender.size
  }

  /** Who has entries: every sender whose updates a rebuilt model may need to take out. */
  senderIds(): IterableIterator<string> {
    return this.bySender.keys()
  }

  /**
   * Drops updates with clock < keepFrom. A live sender keeps its newest (the next one names it as `prev`); a departed
   * one (`live` says no) loses everything below keepFrom, so churn leaves nothing behind.
   */
  trim(keepFrom: number, live: (from: string) => boolean = () => true): void {
    for (const [from, list] of this.bySender) {
      const keepLast = live(from) ? 1 : 0
      let i = 0
      while (i < list.length - keepLast && list[i].clock < keepFrom) i++
      if (i === list.length) this.bySender.delete(from)
      else if (i > 0) this.bySender.set(from, list.slice(i))
    }
  }

  /** Drops `from`'s updates after clock `after` (taken back): nobody is served them again. */
  dropAfter(from: string, after: number): void {
    const list = this.bySender.get(from)
    if (!list) return
    const kept = list.filter((u) => u.clock <= after)
    if (kept.length) this.bySender.set(from, kept)
    else this.bySender.delete(from)
  }

  forget(from: string): void {
    this.bySender.delete(from)
  }
}
