// The job page's workers table: the live ones, then those that left (greyed) with what they gave, when and why.
import type { DepartedView, JobDetail, WorkerView } from '../../protocol/job.ts'
import type { LassoWorkerView } from '../../protocol/lasso.ts'
import type { LassoDetailView } from './api.ts'
import { cell, table } from './dom.ts'
import { scroller } from './view.ts'

const when = (t: number) => new Date(t).toLocaleTimeString()

/** What a live worker is doing in words: linking, paused by its volunteer, throttled, or working. */
function status(w: { ready: boolean; paused: boolean; duty?: number }): string {
  if (!w.ready) return 'linking'
  if (w.paused) return 'paused (by its volunteer)'
  return w.duty !== undefined && w.duty < 1 ? `working at ${Math.round(100 * w.duty)} %` : 'working'
}

/** A departed worker's row, greyed by its class: what it gave, when it came and went, and why it went. */
function departedRow(d: DepartedView, middle: (d: DepartedView) => HTMLTableCellElement[]): HTMLTableCellElement[] {
  return [cell(d.id), cell(d.engine), cell(d.adapter || '–'), cell('left'), cell(when(d.joinedAt)), cell(when(d.leftAt)), ...middle(d), cell(d.why, 'why')]
}

/** A live worker's first cells, for either app: id, engine, adapter, status, when it joined, and no departure. */
function who(w: WorkerView | LassoWorkerView): HTMLTableCellElement[] {
  return [cell(w.id), cell(w.engine), cell(w.adapter || '–'), cell(status(w)), cell(w.joinedAt ? when(w.joinedAt) : '–'), cell('–')]
}

function mark(t: HTMLTableElement, live: number, label: string): HTMLElement {
  const rows = t.tBodies[0].rows
  for (let i = live; i < rows.length; i++) rows[i].classList.add('departed')
  t.classList.add('workers-all')
  return scroller(t, label)
}

/** SGD: a row per worker with its clock, samples, speed and loss; the departed after the live ones. */
export function sgdWorkersTable(j: JobDetail): HTMLElement {
  const departed = j.departed ?? []
  const live = j.workersList.map((w: WorkerView) => [
    ...who(w),
    cell(w.clock === null ? '–' : String(w.clock), 'clock'),
    cell(w.samples.toLocaleString('en'), 'samples'),
    cell(w.samplesPerSecond.toFixed(1)),
    cell(w.lastLoss === null ? '–' : w.lastLoss.toFixed(4)),
    cell(w.leases.map((l) => `epoch ${l.epoch + 1} shard ${l.shard}`).join(', ') || 'no shard'),
  ])
  const gone = departed.map((d) =>
    departedRow(d, (x) => [cell(x.clock === null ? '–' : String(x.clock), 'clock'), cell(x.samples.toLocaleString('en'), 'samples'), cell('–'), cell('–')]),
  )
  const t = table(['worker', 'engine', 'adapter', 'status', 'joined', 'left', 'clock', 'samples', 'samples/s', 'batch loss', 'shards held · why it left'], [...live, ...gone])
  return mark(t, live.length, 'Workers, live and departed')
}

/** Lasso: a row per worker with its blocks, tasks answered and coordinate updates; the departed after the live ones. */
export function lassoWorkersTable(j: LassoDetailView): HTMLElement {
  const departed = j.departed ?? []
  const live = j.workersList.map((w: LassoWorkerView) => [
    ...who(w),
    cell(w.blocks.length ? `${w.blocks.length}: ${w.blocks.join(' ')}` : 'none'),
    cell(String(w.rounds), 'tasks'),
    cell(w.updates.toLocaleString('en'), 'updates'),
    cell(''),
  ])
  const gone = departed.map((d) => departedRow(d, (x) => [cell('–'), cell(x.clock === null ? '–' : String(x.clock), 'tasks'), cell(x.samples.toLocaleString('en'), 'updates')]))
  const t = table(['worker', 'engine', 'adapter', 'status', 'joined', 'left', 'blocks', 'tasks answered', 'coordinate updates', 'why it left'], [...live, ...gone])
  return mark(t, live.length, 'Workers, live and departed')
}
