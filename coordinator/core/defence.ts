// What the job's defences did: rejected messages by code, quarantines, peer reports and flags; counted and announced.
import type { ErrorCode } from '../../protocol/errors.ts'
import type { DefenceView } from '../../protocol/job.ts'

export type DefenceEvent =
  | { kind: 'rejected'; worker: string; type: string; code: ErrorCode; reason: string }
  | { kind: 'quarantined'; worker: string; reason: string }
  | { kind: 'report'; worker: string; by: string; clock: number; report: 'missing' | 'mismatch'; flagged: boolean }

/** The most recent quarantines the job view lists (all are counted). */
const RECENT = 20

export class Defence {
  private readonly view: DefenceView = { rejected: {}, quarantines: 0, recent: [], reports: { missing: 0, mismatch: 0 }, flagged: [] }

  constructor(
    private readonly now: () => number,
    private readonly onEvent?: (e: DefenceEvent) => void,
  ) {}

  rejected(worker: string, type: string, code: ErrorCode, reason: string): void {
    this.view.rejected[code] = (this.view.rejected[code] ?? 0) + 1
    this.onEvent?.({ kind: 'rejected', worker, type, code, reason })
  }

  quarantined(worker: string, reason: string): void {
    this.view.quarantines++
    this.view.recent.push({ worker, reason: reason.slice(0, 300), at: this.now() })
    if (this.view.recent.length > RECENT) this.view.recent.shift()
    this.onEvent?.({ kind: 'quarantined', worker, reason })
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
