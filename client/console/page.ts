// A job's page (/console#job=ID): fetches its detail and draws the SGD or the Lasso page; the shared pieces (a titled
// block, a chart with its axis switch) live here.
import { api, ApiError, type AnyDetail } from './api.ts'
import { controls } from './controls.ts'
import { heading } from './dom.ts'
import { radios } from './fields.ts'
import { lassoPage } from './page-lasso.ts'
import { sgdPage } from './page-sgd.ts'
import type { ViewContext } from './overview.ts'
import { patch, persistent, text } from './view.ts'

/** Fetches job `id` and draws its page into `root`; an unknown id says so. */
export async function renderJobPage(root: HTMLElement, id: string, ctx: ViewContext): Promise<void> {
  const back = persistent('back-link', () => Object.assign(document.createElement('a'), { className: 'back', href: '#', textContent: '← All jobs' }))
  let j: AnyDetail
  try {
    j = await api<AnyDetail>(`/api/jobs/${encodeURIComponent(id)}`)
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 404)) throw e
    patch(root, [back, text('p', 'notice error', `There is no job ${id} on this coordinator.`)])
    return
  }
  const top = persistent(`page:${id}`, () => {
    const s = document.createElement('section')
    s.className = 'card job-page'
    s.dataset.job = id
    s.dataset.app = j.app
    return s
  })
  const bar = ctx.operator ? [controls('page', j, ctx.refresh)] : []
  const parts = j.app === 'lasso' ? lassoPage(j) : sgdPage(j)
  const h = heading(j)
  h.tabIndex = -1 // focused when the page opens, for screen readers and the keyboard
  patch(top, [h, ...bar, ...parts.top])
  patch(root, [back, top, ...parts.blocks])
  parts.draw()
}

/** What an app's page draws: parts of the top card, the blocks below it, and its charts (after they are in place). */
export interface PageParts {
  top: Node[]
  blocks: HTMLElement[]
  draw(): void
}

/** A titled block of the page (`section.card.block-<name>`), the same node on every refresh. */
export function block(id: string, name: string, title: string, body: Node[]): HTMLElement {
  const s = persistent(`page:${id}:${name}`, () => {
    const e = document.createElement('section')
    e.className = `card block block-${name}`
    e.setAttribute('aria-label', title)
    return e
  })
  patch(s, [text('h2', '', title), ...body])
  return s
}

const axes = new Map<string, string>()
const redraws = new Map<string, () => void>()

/**
 * A chart host under `key` and, with more than one choice of x axis, a radio switch before it; `value()` says the
 * chosen axis. Changing it redraws at once through `redraw`.
 */
export function chartWithAxis<T extends string>(key: string, choices: Array<[T, string]>, redraw: () => void): { nodes: Node[]; value(): T } {
  const host = persistent(`${key}:host`, () => Object.assign(document.createElement('div'), { className: 'chart' }))
  const value = () => (axes.get(key) ?? choices[0][0]) as T
  redraws.set(key, redraw) // the newest detail's: the switch, made once, redraws with it
  if (choices.length < 2) return { nodes: [host], value }
  const toggle = persistent(`${key}:axis`, () => {
    const fs = radios(`${key}:axis`, 'x axis', choices)
    fs.className = 'axis-toggle'
    for (const r of fs.querySelectorAll('input')) {
      r.checked = r.value === value()
      r.addEventListener('change', () => {
        axes.set(key, r.value)
        redraws.get(key)?.()
      })
    }
    return fs
  })
  return { nodes: [toggle, host], value }
}

/** The chart host kept under `key` (from chartWithAxis). */
export function hostOf(key: string): HTMLElement {
  return persistent(`${key}:host`, () => Object.assign(document.createElement('div'), { className: 'chart' }))
}
