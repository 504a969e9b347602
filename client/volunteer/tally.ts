// What this page gave: work (SGD samples, Lasso coordinate updates) and time worked, per job and in all, summed over
// the sessions the page runs (each Session counts from zero; the tally keeps the running totals). No DOM.
import type { WorkerStatus } from '../train/status.ts'

/** Phases in which the tab is at work on a job (its rests under the throttle included). */
const WORKING = new Set<WorkerStatus['phase']>(['training', 'waiting-slowest', 'waiting-updates'])

export interface JobTally {
  id: string
  name: string
  app: 'sgd' | 'lasso'
  /** SGD: samples trained on; Lasso: coordinate updates computed. */
  work: number
  /** Milliseconds spent at work on the job. */
  ms: number
}

/**
 * Running totals over the page's sessions. Feed every status the current session reports (`observe`) and call
 * `tick()` now and then (once a second) so time at work is counted; `newSession()` when the page makes a Session.
 *
 * @example
 * const tally = new Tally()
 * tally.newSession()
 * tally.observe(status) // in onStatus
 * setInterval(() => tally.tick(), 1000)
 */
export class Tally {
  readonly jobs = new Map<string, JobTally>()
  /** The work counter of the current session last seen, and the status it came with. */
  private seen = 0
  private current: WorkerStatus | null = null
  private lastTick: number

  constructor(private readonly now: () => number = () => performance.now()) {
    this.lastTick = now()
  }

  /** A new Session starts counting from zero. */
  newSession(): void {
    this.tick()
    this.seen = 0
    this.current = null
  }

  /** Adds what the session did since the last status it reported. */
  observe(s: WorkerStatus): void {
    this.current = s
    const t = this.jobOf(s)
    if (!t) return
    const count = s.app === 'lasso' ? (s.lasso?.updates ?? 0) : s.samples
    if (count > this.seen) t.work += count - this.seen
    this.seen = Math.max(this.seen, count)
  }

  /** Counts the time since the last tick as time at work when the current session is at work (and not paused). */
  tick(): void {
    const now = this.now()
    const s = this.current
    const t = s && this.jobOf(s)
    if (s && t && WORKING.has(s.phase) && !s.paused) t.ms += now - this.lastTick
    this.lastTick = now
  }

  /** The tally of a job (zero when the page has not worked on it). */
  job(id: string): JobTally | undefined {
    return this.jobs.get(id)
  }

  /** In all: SGD samples, Lasso coordinate updates, ms at work, and the jobs the page worked on. */
  totals(): { samples: number; updates: number; ms: number; jobs: number } {
    let samples = 0
    let updates = 0
    let ms = 0
    for (const t of this.jobs.values()) {
      if (t.app === 'lasso') updates += t.work
      else samples += t.work
      ms += t.ms
    }
    return { samples, updates, ms, jobs: [...this.jobs.values()].filter((t) => t.work > 0).length }
  }

  private jobOf(s: WorkerStatus): JobTally | null {
    const job = s.job
    if (!job) return null
    let t = this.jobs.get(job.id)
    if (!t) {
      t = { id: job.id, name: job.name, app: s.app, work: 0, ms: 0 }
      this.jobs.set(job.id, t)
    }
    t.app = s.app
    return t
  }
}

/** A duration for people: "45 s", "12 min", "2 h 05 min". */
export function minutes(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 60) return `${s} s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m} min`
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`
}

/** A count for people: 12 345 → "12,345" (the browser's locale). */
export function count(n: number): string {
  return Math.round(n).toLocaleString()
}
