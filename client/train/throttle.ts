// The volunteer's throttle: after each piece of work the tab rests so that it computes only `duty` of the time.
import { MIN_DUTY } from '../../protocol/limits.ts'

/** A duty cycle as the page or a stats message may give it: clamped to [MIN_DUTY, 1]; anything else is 1. */
export function clampDuty(duty: number): number {
  return Number.isFinite(duty) ? Math.min(1, Math.max(MIN_DUTY, duty)) : 1
}

/** The rest after `busyMs` of work at `duty`: busy / duty in all, so busy · (1/duty − 1) of rest. */
export function restAfter(busyMs: number, duty: number): number {
  const d = clampDuty(duty)
  return busyMs > 0 && d < 1 ? busyMs * (1 / d - 1) : 0
}

/**
 * Rests `ms`, waking early when `stop()` turns true (checked whenever `changed` resolves: a pause, a leave, a job
 * event). Returns the ms it rested.
 *
 * @example
 * const rested = await rest(restAfter(engineMs, status.duty), (ms) => session.changed(ms), () => status.paused)
 */
export async function rest(ms: number, changed: (ms: number) => Promise<void>, stop: () => boolean): Promise<number> {
  const start = performance.now()
  for (;;) {
    const left = ms - (performance.now() - start)
    if (left <= 0 || stop()) return performance.now() - start
    await changed(left)
  }
}
