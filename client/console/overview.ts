// The console's front page (/console): the New job form for a signed-in operator, the job list, and a card per job
// with its summary, controls and curve, each card linking to its job page.
import { api, type AnyDetail, type AnySummary } from './api.ts'
import { controls } from './controls.ts'
import { createForm } from './create-form.ts'
import { heading } from './dom.ts'
import { lassoCard, plotLasso } from './lasso.ts'
import { jobList } from './list.ts'
import { plotSgd, sgdCard } from './sgd.ts'
import { patch, persistent, text } from './view.ts'

/** What a view needs from the page: whether the operator is signed in, a refresh now, and a way to open a job. */
export interface ViewContext {
  operator: boolean
  refresh(): void
  open(id: string): void
}

/** Fetches every job and its detail, and draws the front page into `root`. */
export async function renderOverview(root: HTMLElement, ctx: ViewContext): Promise<void> {
  const list = await api<AnySummary[]>('/api/jobs')
  const details = await Promise.all(list.map((s) => api<AnyDetail>(`/api/jobs/${encodeURIComponent(s.id)}`)))
  const form = ctx.operator ? [persistent('create-form', () => createForm(ctx.open))] : []
  if (!details.length) {
    const hint = ctx.operator ? 'No jobs yet: create one with the form above.' : 'No jobs yet. An operator creates them here (signed in), with `tabgrid job create`, or POST /api/jobs.'
    patch(root, [...form, text('p', 'empty', hint)])
    return
  }
  const newest = [...details].reverse()
  patch(root, [...form, jobList([...list].reverse()), ...newest.map((j) => card(j, ctx))])
  for (const j of newest) {
    const host = persistent(`card-chart:${j.id}`, () => chartHost())
    if (j.app === 'lasso') plotLasso(j, host, `card:${j.id}`)
    else plotSgd(j, host, `card:${j.id}`)
  }
}

/** A job's card: the same <section> on every refresh, its parts patched in place. */
function card(j: AnyDetail, ctx: ViewContext): HTMLElement {
  const section = persistent(`card:${j.id}`, () => {
    const s = document.createElement('section')
    s.className = 'card job-card'
    s.dataset.job = j.id
    s.dataset.app = j.app
    s.id = `job-${j.id}`
    return s
  })
  const open = Object.assign(document.createElement('a'), { className: 'open-job', href: `#job=${encodeURIComponent(j.id)}`, textContent: 'Open the job page →' })
  const bar = ctx.operator ? [controls('card', j, ctx.refresh)] : []
  const body = j.app === 'lasso' ? lassoCard(j) : sgdCard(j)
  patch(section, [heading(j), ...bar, ...body, open, persistent(`card-chart:${j.id}`, () => chartHost())])
  return section
}

function chartHost(): HTMLElement {
  const c = document.createElement('div')
  c.className = 'chart'
  return c
}
