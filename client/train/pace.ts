// This worker's speed, measured on its own clocks, and the rows its next update carries so that a clock takes about
// the job's clock length (LeaseGrant.clockMs): no device, fast or slow, holds the others back.
import { rowsForClock } from '../../protocol/job.ts'

/** A new clock's figures weigh this much against the estimate so far. */
const EWMA = 0.25

/**
 * Rows by speed, on the worker's side: its engine's ms per row and the rest of a clock (send, apply, the loop; not
 * the SSP wait) per clock, from every clock it runs; rows = (T − rest) / per-row, from 1 to `maxRowsOf(hyper)`.
 * Until it has timed a clock, or while the job has no clock length yet, it uses the job's B.
 *
 * @example
 * const pacer = new RowPacer(job.hyper)
 * const rows = pacer.rows(lease.clockMs)
 * pacer.observe(rows, engineMs, restMs)
 */
export class RowPacer {
  private perRowMs = NaN
  private restMs = NaN

  constructor(private readonly hyper: { batch: number }) {}

  /** One clock of `rows` rows: its engine's ms, and the rest of it (wait excluded). */
  observe(rows: number, engineMs: number, restMs: number): void {
    if (rows < 1 || !(engineMs >= 0) || !(restMs >= 0)) return
    const perRow = engineMs / rows
    if (Number.isNaN(this.perRowMs)) {
      this.perRowMs = perRow
      this.restMs = restMs
      return
    }
    this.perRowMs += EWMA * (perRow - this.perRowMs)
    this.restMs += EWMA * (restMs - this.restMs)
  }

  /** Rows for the next update, to take about `clockMs` (null: the job has no clock length yet). */
  rows(clockMs: number | null): number {
    if (clockMs === null || Number.isNaN(this.perRowMs)) return this.hyper.batch
    return rowsForClock({ perRowMs: this.perRowMs, fixedMs: this.restMs }, clockMs, this.hyper)
  }
}
