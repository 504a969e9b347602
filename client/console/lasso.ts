// A Lasso job's parts as the console shows them: summary (λ, scheduler, rounds, objective), downloads, live workers
// and their column blocks, defences, and the objective curve with the nonzero count beside it.
import type uPlot from 'uplot'
import { bytes } from '../volunteer/dom.ts'
import type { LassoDetailView } from './api.ts'
import { drawChart } from '../charts.ts'
import { defenceBox, edgeCounts, refusals } from './defences.ts'
import { cell, table } from './dom.ts'
import { scroller } from './view.ts'

export type { LassoDetailView } from './api.ts'

/** The card's body in the job list (its heading, controls and chart are the caller's). */
export function lassoCard(j: LassoDetailView): Node[] {
  return [lassoSummary(j), lassoDownloads(j), lassoLiveWorkers(j), lassoDefences(j)]
}

/** One row: data, λ, scheduler, picks, staleness, workers, rounds, updates, objective, nonzeros, blocks, stop, time. */
export function lassoSummary(j: LassoDetailView): HTMLElement {
  const { n, p } = j.dataset
  const t = table(
    ['data (n × p)', 'λ', 'scheduler', 'picks', 'staleness', 'workers', 'rounds', 'updates', 'objective (drop from β = 0)', 'nonzeros', 'blocks held / count', 'stop', 'time', 'residual bytes sent'],
    [[
      cell(`${j.dataset.name} · ${n.toLocaleString('en')} × ${p.toLocaleString('en')}`, 'dataset'),
      cell(j.lambda.toPrecision(4), 'lambda'),
      cell(j.hyper.scheduler),
      cell(String(j.hyper.picks)),
      cell(String(j.hyper.staleness)),
      cell(String(j.workers), 'workers'),
      cell(String(j.rounds), 'rounds'),
      cell(j.updates.toLocaleString('en'), 'updates'),
      cell(`${j.objective.toPrecision(7)} (${drop(j)})`, 'objective'),
      cell(`${j.nonzeros} of ${p}`, 'nonzeros'),
      cell(`${j.blocks.held} / ${j.blocks.count}`, 'blocks'),
      cell(j.stop ?? '–', 'stop'),
      cell(elapsed(j)),
      cell(bytes(j.bytes.coordinator)),
    ]],
  )
  t.classList.add('lasso-summary')
  return scroller(t, 'Job summary')
}

/** β as CSV (and f32) and the objective curve as CSV. */
export function lassoDownloads(j: LassoDetailView): HTMLElement {
  const id = encodeURIComponent(j.id)
  const p = document.createElement('p')
  p.className = 'export'
  const a = (href: string, label: string, cls: string) => Object.assign(document.createElement('a'), { href, textContent: label, className: cls })
  p.append(
    'Coefficients: ',
    a(`/api/jobs/${id}/beta`, 'Download β (CSV)', 'beta-csv'),
    ' · ',
    a(`/api/jobs/${id}/beta?format=f32`, 'f32', 'beta-f32'),
    ' (β on the standardised features) · objective curve ',
    a(`/api/jobs/${id}/curve.csv`, 'CSV', 'curve-csv'),
  )
  for (const link of p.querySelectorAll('a')) link.setAttribute('download', '')
  return p
}

/** The live workers: their column blocks, tasks answered and coordinate updates. */
export function lassoLiveWorkers(j: LassoDetailView): HTMLElement {
  const t = table(
    ['worker', 'engine', 'adapter', 'blocks', 'rounds', 'updates'],
    j.workersList.map((w) => [
      cell(w.id),
      cell(w.engine),
      cell(w.adapter || '–'),
      cell(w.blocks.length ? `${w.blocks.length}: ${w.blocks.join(' ')}` : w.ready ? 'none' : 'linking'),
      cell(String(w.rounds)),
      cell(w.updates.toLocaleString('en')),
    ]),
  )
  t.classList.add('lasso-workers')
  return scroller(t, 'Workers')
}

/** Refusals by code, quarantines (a result that failed its checks), results re-computed, and the edge's counts. */
export function lassoDefences(j: LassoDetailView): HTMLElement {
  const d = j.defence
  return defenceBox(
    `defences: ${d.quarantines} quarantined · ${d.verified} results re-computed and verified · ` +
      `refused: ${refusals(d)} · edge: ${edgeCounts(j.edge)}`,
    d,
  )
}

/** The objective over rounds (or seconds since the start), and the nonzero coefficients on a second axis. */
export function plotLasso(j: LassoDetailView, host: HTMLElement, key: string, x: 'rounds' | 'seconds' = 'rounds'): void {
  const t0 = j.startedAt ?? j.curve[0]?.t ?? 0
  const xs = x === 'rounds' ? j.curve.map((c) => c.round) : j.curve.map((c) => Math.max(0, (c.t - t0) / 1000))
  const data: uPlot.AlignedData = [xs, j.curve.map((c) => c.objective), j.curve.map((c) => c.nonzeros)]
  drawChart(`${key}:${x}`, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: x }, { label: 'objective', size: 70 }, { side: 1, scale: 'nnz', label: 'nonzeros', grid: { show: false } }],
    series: [{ label: x === 'rounds' ? 'round' : 'seconds' }, { label: 'objective', stroke: '#1d4ed8' }, { label: 'nonzeros', stroke: '#b26a00', scale: 'nnz' }],
  }), data)
}

/** The objective's drop from its value at β = 0 (½‖y‖²), relative. */
function drop(j: LassoDetailView): string {
  if (!(j.initialObjective > 0)) return '–'
  return `−${((100 * (j.initialObjective - j.objective)) / j.initialObjective).toFixed(2)} % from ${j.initialObjective.toPrecision(5)}`
}

/** Seconds from the start to the end (or to the newest curve point while it runs), on the coordinator's clock. */
function elapsed(j: LassoDetailView): string {
  if (j.startedAt === null) return '–'
  const end = j.finishedAt ?? j.curve.at(-1)?.t ?? j.startedAt
  return `${(Math.max(0, end - j.startedAt) / 1000).toFixed(1)} s`
}
