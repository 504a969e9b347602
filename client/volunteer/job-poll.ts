// Polls the coordinator's glance at the tab's job (GET /api/jobs/:id/glance) every 2 s while a job is known: its
// curve and totals feed the page's chart and the tab's share.
import { isEnded, type JobGlance } from '../../protocol/job.ts'

/** How often the page asks for its job's glance. */
export const JOB_POLL_MS = 2000

/** The job's total work: SGD samples in accepted updates, Lasso coordinate updates applied. */
export function jobWork(d: JobGlance): number {
  return d.app === 'lasso' ? d.updates : d.samples
}

/**
 * Follows one job at a time: `follow(id)` starts (or switches) polling, `follow(null)` stops. Once the job has ended,
 * one last answer is given and polling stops, so a finished job's chart stays as it ended. A hidden tab skips its turns.
 *
 * @example
 * const poll = new JobPoll((d) => chart.draw(d))
 * poll.follow(status.job?.id ?? null)
 */
export class JobPoll {
  private id: string | null = null
  private timer: ReturnType<typeof setTimeout> | undefined
  private ended = false

  constructor(
    private readonly onDetail: (d: JobGlance) => void,
    private readonly fetchJson: (url: string) => Promise<unknown> = defaultFetch,
    /** A hidden tab asks nothing (nobody sees the chart): it asks again once shown. */
    private readonly visible: () => boolean = () => typeof document === 'undefined' || !document.hidden,
  ) {}

  follow(id: string | null): void {
    if (id === this.id) return
    clearTimeout(this.timer)
    this.id = id
    this.ended = false
    if (id) void this.poll(id)
  }

  private async poll(id: string): Promise<void> {
    if (!this.visible()) {
      this.timer = setTimeout(() => void this.poll(id), JOB_POLL_MS)
      return
    }
    try {
      const d = (await this.fetchJson(`/api/jobs/${encodeURIComponent(id)}/glance`)) as JobGlance
      if (this.id !== id) return
      this.onDetail(d)
      if (isEnded(d.state)) this.ended = true
    } catch (e) {
      // the coordinator restarting or a job it forgot: the page shows the last answer and asks again
      console.warn(`job ${id}: ${(e as Error).message}`)
    }
    if (this.id === id && !this.ended) this.timer = setTimeout(() => void this.poll(id), JOB_POLL_MS)
  }
}

async function defaultFetch(url: string): Promise<unknown> {
  const r = await fetch(url)
  if (!r.ok) throw new Error(`GET ${url}: HTTP ${r.status}`)
  return r.json()
}
