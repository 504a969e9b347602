// What a volunteer does once a session has ended: stop, or wait and join again. The page and `tabgrid worker` share it
// so that a headless worker behaves like a tab. No DOM, no Node: plain decisions over what the session reported.

/** How long a worker that found no job (or lost the coordinator) waits before it asks again… */
export const NEXT_JOB_RETRY_MS = 5000
/** …doubling, up to this, while the coordinator cannot be reached at all (it is restarting, or gone). */
export const MAX_RETRY_MS = 60_000

/** The wait before the n-th attempt in a row to reach a coordinator that did not answer: 5 s · 2ⁿ ± 20 %, at most 60 s. */
export function retryDelay(unreached: number, random: () => number = Math.random): number {
  return Math.min(MAX_RETRY_MS, NEXT_JOB_RETRY_MS * 2 ** unreached) * (0.8 + 0.4 * random())
}

/** How a session ended, as far as the rejoin decision cares. */
export interface SessionEnd {
  /** The code of the error `run()` threw; undefined when it returned. */
  code?: string
  /** The session got a worker id: it reached the coordinator. */
  reached: boolean
  /** The job was done (the session's phase was 'done'). */
  done: boolean
  /** The person (or SIGINT) asked to leave. */
  left: boolean
  /**
   * The worker works on one job only: a tab opened with ?job=ID, `tabgrid worker --job ID`, or `--once` once it has
   * a job. A volunteer that is not tied waits for the next job when its job ends or none exists yet.
   */
  tied: boolean
}

export type Next =
  | { action: 'stop' }
  /**
   * Join again after `waitMs`: `dropped` lost (or never reached) the coordinator, `no-job` found none taking workers,
   * `next-job` finished one and looks for the next.
   */
  | { action: 'rejoin'; why: 'dropped' | 'no-job' | 'next-job'; waitMs: number }

/**
 * The decision after a session: `unreached` counts the attempts in a row that did not reach the coordinator (for
 * the back-off); the returned one is the count to pass next time.
 *
 * @example
 * const { next, unreached: u } = afterSession({ code: e?.code, reached: !!s.status.workerId, done, left, tied }, unreached)
 */
export function afterSession(end: SessionEnd, unreached: number): { next: Next; unreached: number } {
  if (end.left) return { next: { action: 'stop' }, unreached }
  const noJob = end.code === 'ERR_UNKNOWN_JOB' || end.code === 'ERR_JOB_CLOSED'
  // lost mid-job, or never reached (the coordinator restarting): try again, whatever the worker is tied to
  // (or fell out of step with the coordinator's clock on a slow network: ERR_REBASED, a fresh join fixes it)
  const dropped = end.code === 'ERR_DISCONNECTED' || end.code === 'ERR_REBASED' || (end.code === 'ERR_TIMEOUT' && !end.reached)
  if (!dropped && (end.tied || !(noJob || end.done))) return { next: { action: 'stop' }, unreached }
  // a session that got a worker id reached the coordinator: the next attempt starts the back-off afresh
  const u = end.reached ? 0 : unreached + 1
  if (dropped) return { next: { action: 'rejoin', why: 'dropped', waitMs: retryDelay(u) }, unreached: u }
  return { next: { action: 'rejoin', why: noJob ? 'no-job' : 'next-job', waitMs: NEXT_JOB_RETRY_MS }, unreached: u }
}
