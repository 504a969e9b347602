// The operator console: a list of every job, then a card per job (SGD or Lasso) with its live workers and its curve,
// refreshed each second.
import type { JobDetail } from '../../protocol/job.ts'
import { lassoCard, plotLasso, type LassoDetailView } from './lasso.ts'
import { jobList, type AnySummary } from './list.ts'
import { plotSgd, sgdCard } from './sgd.ts'

const root = document.getElementById('jobs')!

type AnyDetail = JobDetail | LassoDetailView

function card(j: AnyDetail): HTMLElement {
  return j.app === 'lasso' ? lassoCard(j) : sgdCard(j)
}

function plot(j: AnyDetail, host: HTMLElement): void {
  if (j.app === 'lasso') plotLasso(j, host)
  else plotSgd(j, host)
}

async function refresh(): Promise<void> {
  try {
    const list = (await (await fetch('/api/jobs')).json()) as AnySummary[]
    const details = await Promise.all(list.map(async (s) => (await (await fetch(`/api/jobs/${s.id}`)).json()) as AnyDetail))
    if (!details.length) {
      root.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'No jobs yet. Create one with `tabgrid job create` or POST /api/jobs.' }))
      return
    }
    const cards = details.reverse().map((j) => {
      const c = card(j)
      const old = root.querySelector<HTMLElement>(`section[data-job="${j.id}"] .chart`)
      const host = c.querySelector<HTMLElement>('.chart')!
      if (old) host.replaceWith(old)
      return { card: c, j }
    })
    root.replaceChildren(jobList([...list].reverse()), ...cards.map((c) => c.card))
    for (const { card, j } of cards) plot(j, card.querySelector<HTMLElement>('.chart')!)
  } catch (e) {
    root.replaceChildren(Object.assign(document.createElement('p'), { textContent: `Cannot reach the coordinator: ${(e as Error).message}` }))
  }
}

void refresh()
setInterval(() => void refresh(), 1000)
