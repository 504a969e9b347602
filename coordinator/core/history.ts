// What a job's page shows of its past: the workers that left (with what they gave) and its progress once a second.
import type { DepartedView, ProgressPoint } from '../../protocol/job.ts'
import { MAX_DEPARTED, MAX_PROGRESS_POINTS } from '../../protocol/limits.ts'

/**
 * A job's history for its page: departed workers (the last MAX_DEPARTED, oldest first) and progress points, thinned
 * to every other one whenever MAX_PROGRESS_POINTS is reached, so a long job keeps its whole run at a coarser grain.
 *
 * @example
 * const h = new JobHistory()
 * h.sample({ t: Date.now(), minClock: 3, maxClock: 5, samples: 960, workers: 3 })
 * h.departed({ id: 'w-1', engine: 'cpu', adapter: '', joinedAt, leftAt: Date.now(), why: 'left', samples: 320, clock: 10 })
 */
export class JobHistory {
  private readonly gone: DepartedView[] = []
  private readonly points: ProgressPoint[] = []
  /** Seconds between kept points: doubles at each thinning. */
  private every = 1
  private skipped = 0

  departed(v: DepartedView): void {
    this.gone.push(v)
    if (this.gone.length > MAX_DEPARTED) this.gone.shift()
  }

  /** One point a tick; after a thinning only every `every`-th is kept. */
  sample(p: ProgressPoint): void {
    if (++this.skipped < this.every) return
    this.skipped = 0
    this.points.push(p)
    if (this.points.length < MAX_PROGRESS_POINTS) return
    let w = 0
    for (let i = 0; i < this.points.length; i += 2) this.points[w++] = this.points[i]
    this.points.length = w
    this.every *= 2
  }

  departedView(): DepartedView[] {
    return this.gone.slice()
  }

  progress(): ProgressPoint[] {
    return this.points.slice()
  }
}

/** What an operator's control does to a job's state, or why it cannot (the job has ended). */
export type ControlOutcome = { state: 'paused' | 'running' | 'pending' | 'failed'; reason: string | null } | { refused: string }

/** The words a job's `reason` carries after an operator's pause or cancel. */
export const PAUSED_BY_OPERATOR = 'paused by the operator'
export const CANCELLED_BY_OPERATOR = 'cancelled by the operator'

/**
 * The operator's controls as a state machine shared by both apps: pause (pending or running → paused), resume
 * (paused → running, or pending if it never started), cancel (anything not ended → failed). Ended jobs refuse all
 * three; a control that changes nothing (pausing a paused job) answers the state as it is.
 */
export function controlOutcome(
  action: 'pause' | 'resume' | 'cancel',
  job: { state: string; started: boolean; reason: string | null },
): ControlOutcome {
  if (job.state === 'done' || job.state === 'failed') return { refused: `the job is ${job.state}${job.reason ? ` (${job.reason})` : ''}` }
  const now = { state: job.state as 'paused' | 'running' | 'pending', reason: job.reason }
  switch (action) {
    case 'pause':
      return job.state === 'paused' ? now : { state: 'paused', reason: PAUSED_BY_OPERATOR }
    case 'resume':
      return job.state !== 'paused' ? now : { state: job.started ? 'running' : 'pending', reason: null }
    case 'cancel':
      return { state: 'failed', reason: CANCELLED_BY_OPERATOR }
  }
}
