// What the job's defences did: rejected messages by code, quarantines, peer reports and flags; counted and announced.
import type { ErrorCode } from '../../protocol/errors.ts'
import type { DefenceView } from '../../protocol/job.ts'

export type DefenceEvent =
  | { kind: 'rejected'; worker: string; type: string; code: ErrorCode; reason: string }
  | { kind: 'quarantined'; worker: string; reason: string; undone: Undone }
  | { kind: 'report'; worker: string; by: string; clock: number; report: 'missing' | 'mismatch'; flagged: boolean }

/** What a quarantine took back: updates after clock `after`, and shards returned to the pool. */
export interface Undone {
  after: number
  updates: number
  shards: number
}

/** The most recent quarantines the job view lists (all are counted). */
const RECENT = 20

export class Defence {
  private readonly view: DefenceView = { rejected: {}, quarantines: 0, undone: { updates: 0, shards: 0 }, recent: [], reports: { missing: 0, mismatch: 0 }, flagged: [] }

  constructor(
    private readonly now: () => number,
    private readonly onEvent?: (e: DefenceEvent) => void,
  ) {}

  rejected(worker: string, type: string, code: ErrorCode, reason: string): void {
    this.view.rejected[code] = (this.view.rejected[code] ?? 0) + 1
    this.onEvent?.({ kind: 'rejected', worker, type, code, reason })
  }

  quarantined(worker: string, reason: string, undone: Undone): void {
    this.view.quarantines++
    this.view.undone.updates += undone.updates
    this.view.undone.shards += undone.shards
    this.view.recent.push({ worker, reason: reason.slice(0, 300), at: this.now(), undone: undone.updates })
    if (this.view.recent.length > RECENT) this.view.recent.shift()
    this.onEvent?.({ kind: 'quarantined', worker, reason, undone })
  }

  reported(worker: string, by: string, clock: number, report: 'missing' | 'mismatch', flagged: boolean): void {
    this.view.reports[report]++
    if (flagged) this.view.flagged.push(worker)
    this.onEvent?.({ kind: 'report', worker, by, clock, report, flagged })
  }

  snapshot(): DefenceView {
    return structuredClone(this.view)
  }
}
