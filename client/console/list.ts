// The job list at the top of the console: every job of either app, its state, workers and how far it got.
import type { JobSummary } from '../../protocol/job.ts'
import type { LassoSummary } from '../../protocol/lasso.ts'
import { appTag, cell, pct, table } from './dom.ts'

/** A row of GET /api/jobs: an SGD or a Lasso job, told apart by `app`. */
export type AnySummary = JobSummary | LassoSummary

export function jobList(list: AnySummary[]): HTMLElement {
  const nav = document.createElement('nav')
  nav.className = 'card job-list'
  const rows = list.map((s) => {
    const id = cell('')
    id.append(Object.assign(document.createElement('a'), { href: `#job-${s.id}`, textContent: s.id }))
    const app = cell('', 'app')
    app.append(appTag(s.app))
    return [id, app, cell(s.name), cell(s.state, `state-${s.state}`), cell(String(s.workers)), cell(progress(s))]
  })
  const t = table(['job', 'app', 'name', 'state', 'workers', 'progress'], rows)
  t.classList.add('jobs')
  nav.append(t)
  return nav
}

/** SGD: epoch, shards and test accuracy; Lasso: rounds, objective and nonzeros. */
function progress(s: AnySummary): string {
  if (s.app === 'lasso') return `round ${s.rounds} · objective ${s.objective.toPrecision(6)} · ${s.nonzeros} nonzeros${s.stop ? ` · ${s.stop}` : ''}`
  return `epoch ${Math.min(s.epoch + 1, s.hyper.epochs)} of ${s.hyper.epochs} · shards ${s.shardsDone} / ${s.shardsTotal} · test accuracy ${pct(s.testAccuracy)}`
}
