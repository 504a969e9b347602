// The log of recent updates per sender (their sf parts as frames), kept so a worker that missed one can ask again.

export interface LoggedUpdate {
  from: string
  clock: number
  prev: number
  frame: Uint8Array
  /** Payload bytes per tensor in the frame, for the traffic accounting of a resend. */
  sizes: Array<{ tensor: number; bytes: number }>
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

  /** Drops updates with clock < keepFrom, but always keeps each sender's newest. */
  trim(keepFrom: number): void {
    for (const [from, list] of this.bySender) {
      let i = 0
      while (i < list.length - 1 && list[i].clock < keepFrom) i++
      if (i > 0) this.bySender.set(from, list.slice(i))
    }
  }

  forget(from: string): void {
    this.bySender.delete(from)
  }
}
