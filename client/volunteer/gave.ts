// The "What this tab gave" card: the work and time given to the job at hand, its share of the job, and the page's
// totals over every job it worked on since it was opened.
import { setText } from './dom.ts'
import type { JobGlance } from '../../protocol/job.ts'
import { jobWork } from './job-poll.ts'
import { count, minutes, type Tally } from './tally.ts'

/** The share of a job's work that is this page's: "13 % of the job’s 8,000 samples" (one decimal below 10 %); '–' while the job has none. */
export function shareText(mine: number, detail: JobGlance | null): string {
  if (!detail) return '–'
  const total = jobWork(detail)
  const unit = detail.app === 'lasso' ? 'coordinate updates' : 'samples'
  if (total <= 0) return `– (the job has no ${unit} yet)`
  const pct = Math.min(100, (100 * mine) / total)
  return `${pct < 10 ? pct.toFixed(1) : pct.toFixed(0)} % of the job’s ${count(total)} ${unit}`
}

/**
 * Fills the card for the job `jobId` (the one at hand, or the last one worked on) with the coordinator's `detail` of
 * it when known; the share compares `mineAtDetail` (this page's work when the detail came) with the job's total then.
 */
export function renderGave(tally: Tally, jobId: string | null, detail: JobGlance | null, mineAtDetail: number): void {
  const t = jobId ? tally.job(jobId) : undefined
  const lasso = t?.app === 'lasso'
  setText('gave-work-label', lasso ? 'Coordinate updates' : 'Samples trained')
  setText('gave-work', t ? count(t.work) : '0')
  setText('gave-time', minutes(t?.ms ?? 0))
  setText('gave-share', t && detail && detail.id === t.id ? shareText(mineAtDetail, detail) : '–')
  setText('gave-job', t ? t.name : 'none yet')
  const all = tally.totals()
  const parts = [
    all.samples > 0 ? `${count(all.samples)} samples` : '',
    all.updates > 0 ? `${count(all.updates)} coordinate updates` : '',
  ].filter(Boolean)
  setText(
    'gave-total',
    parts.length ? `${parts.join(' · ')} · ${minutes(all.ms)} of work, on ${all.jobs} job${all.jobs === 1 ? '' : 's'}` : 'nothing yet',
  )
}
