// The job's live choice of path per tensor (Poseidon's rule, model/comm.ts), re-made when the numbers change.
import { choosePaths, type CommNumbers } from '../../model/comm.ts'
import type { Hyper } from '../../protocol/job.ts'
import type { ModelPlan } from '../../model/plan.ts'
import type { Path } from '../../model/update.ts'
import type { CommView } from '../../protocol/job.ts'

export interface CommDecision extends CommNumbers {
  /** When it was made (ms) and at which min clock. */
  t: number
  clock: number
  version: number
  paths: Path[]
}

/**
 * Decisions the history keeps: the first, and the newest after it. Tabs coming and going around the rule's threshold
 * flip a path at every join and leave, and a history of all of them would grow with the churn for as long as the job
 * runs (and the job view with it); `version` still counts every decision.
 */
export const COMM_HISTORY_MAX = 256

export class CommState {
  /** The decisions as made (the workers each saw, the paths it chose): the first and the newest COMM_HISTORY_MAX − 1. */
  readonly history: CommDecision[] = []
  /** The workers now (the current decision holds for them too). */
  private workers = 1

  constructor(
    private readonly plan: ModelPlan,
    private readonly batch: number,
    private readonly fanout: number | undefined,
    private readonly policy: Hyper['paths'] = 'auto',
  ) {}

  get current(): CommDecision | undefined {
    return this.history[this.history.length - 1]
  }

  get paths(): Path[] {
    return this.current?.paths ?? []
  }

  /**
   * Decides for `workers` workers; returns true when a tensor's path changed (a new version). With `record` false
   * (before any update moved) a change replaces the last decision in the history instead of adding one.
   */
  decide(workers: number, t: number, clock: number, record = true): boolean {
    const numbers: CommNumbers = { batch: this.batch, workers: Math.max(1, workers), ...(this.fanout !== undefined ? { fanout: this.fanout } : {}) }
    const paths =
      this.policy === 'auto' ? choosePaths(this.plan, numbers) : this.plan.tensors.map((t): Path => (this.policy === 'sf' && t.factorable ? 'sf' : 'ps'))
    const cur = this.current
    this.workers = numbers.workers
    if (cur && cur.paths.every((p, i) => p === paths[i])) return false
    const next = { ...numbers, t, clock, version: (cur?.version ?? 0) + 1, paths }
    if (cur && !record) this.history[this.history.length - 1] = next
    else this.history.push(next)
    if (this.history.length > COMM_HISTORY_MAX) this.history.splice(1, 1)
    return true
  }

  view(): CommView {
    const c = this.current
    if (!c) throw new Error('no path decision yet')
    return { version: c.version, paths: c.paths, workers: this.workers, batch: c.batch, ...(c.fanout !== undefined ? { fanout: c.fanout } : {}) }
  }
}
