// Direct-delivery claims: which peers say an update a sender named them for never came, or came different.

/** Reports from this many distinct peers about one sender make it suspect. */
export const CLAIM_REPORTERS = 2
/** A sender whose direct-delivery claims failed this many times (from CLAIM_REPORTERS peers) is flagged. */
export const CLAIM_FAILURES = 4

interface SenderClaims {
  missing: number
  mismatch: number
  reporters: Set<string>
  mismatchReporters: Set<string>
}

/**
 * Counts failed `p2pTo` claims per sender. A flagged sender's claims are ignored from then on (the coordinator relays
 * all of its updates), so a tab that names peers but sends them nothing, or sends them something else, costs the job
 * relay bandwidth instead of progress. Reports are unproven (a peer could lie), so a flag needs several reporters and
 * only changes routing; `equivocating` (mismatches from several peers) is what the job quarantines on.
 */
export class ClaimBook {
  private readonly bySender = new Map<string, SenderClaims>()
  readonly flagged = new Set<string>()

  /** Records a report; returns true when the sender became flagged by it. */
  report(sender: string, reporter: string, kind: 'missing' | 'mismatch'): boolean {
    let c = this.bySender.get(sender)
    if (!c) this.bySender.set(sender, (c = { missing: 0, mismatch: 0, reporters: new Set(), mismatchReporters: new Set() }))
    c[kind]++
    c.reporters.add(reporter)
    if (kind === 'mismatch') c.mismatchReporters.add(reporter)
    if (this.flagged.has(sender)) return false
    if (c.reporters.size >= CLAIM_REPORTERS && c.missing + c.mismatch >= CLAIM_FAILURES) {
      this.flagged.add(sender)
      return true
    }
    return false
  }

  /** Distinct peers that received from `sender` a frame other than the one it gave the coordinator. */
  equivocating(sender: string): boolean {
    return (this.bySender.get(sender)?.mismatchReporters.size ?? 0) >= CLAIM_REPORTERS
  }

  /** A worker left: nothing of its claims is kept (the job view keeps who was flagged). */
  forget(worker: string): void {
    this.bySender.delete(worker)
    this.flagged.delete(worker)
  }
}
