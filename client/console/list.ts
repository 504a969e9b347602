// The job list at the top of the console: every job of either app, its state, workers and how far it got; each
// job's id opens its page.
import type { AnySummary } from './api.ts'
import { appTag, cell, pct, table } from './dom.ts'
import { scroller } from './view.ts'

export type { AnySummary } from './api.ts'

/** The list of jobs, newest first as given, as a <nav> of links to the job pages. */
export function jobList(list: AnySummary[]): HTMLElement {
  const nav = document.createElement('nav')
  nav.className = 'card job-list'
  nav.setAttribute('aria-label', 'Jobs')
  const rows = list.map((s) => {
    const id = cell('')
    id.append(Object.assign(document.createElement('a'), { href: `#job=${encodeURIComponent(s.id)}`, textContent: s.id }))
    const app = cell('', 'app')
    app.append(appTag(s.app))
    const state = cell(s.state, `state-${s.state}`)
    if (s.reason) state.append(Object.assign(document.createElement('span'), { className: 'reason', textContent: ` (${s.reason})` }))
    return [id, app, cell(s.name), state, cell(String(s.workers)), cell(progress(s))]
  })
  const t = table(['job', 'app', 'name', 'state', 'workers', 'progress'], rows)
  t.classList.add('jobs')
  nav.append(scroller(t, 'Jobs'))
  return nav
}

/** SGD: epoch, shards and test accuracy; Lasso: rounds, objective and nonzeros. */
function progress(s: AnySummary): string {
  if (s.app === 'lasso') return `round ${s.rounds} · objective ${s.objective.toPrecision(6)} · ${s.nonzeros} nonzeros${s.stop ? ` · ${s.stop}` : ''}`
  return `epoch ${Math.min(s.epoch + 1, s.hyper.epochs)} of ${s.hyper.epochs} · shards ${s.shardsDone} / ${s.shardsTotal} · test accuracy ${pct(s.testAccuracy)}`
}
