// A Lasso job's card in the console: summary (λ, scheduler, rounds, objective), β download, workers and their
// column blocks, defences, and the objective curve over rounds with the nonzero count beside it.
import type uPlot from 'uplot'
import type { EdgeView } from '../../protocol/job.ts'
import type { LassoDetail } from '../../protocol/lasso.ts'
import { bytes } from '../volunteer/dom.ts'
import { drawChart } from './charts.ts'
import { defenceBox, edgeCounts, refusals } from './defences.ts'
import { cell, heading, table } from './dom.ts'

/** GET /api/jobs/:id of a Lasso job: its detail and the socket edge's counts. */
export type LassoDetailView = LassoDetail & { edge: EdgeView }

export function lassoCard(j: LassoDetailView): HTMLElement {
  const card = document.createElement('section')
  card.className = 'card'
  card.dataset.job = j.id
  card.dataset.app = 'lasso'
  card.id = `job-${j.id}`
  const h = heading(j)
  const { n, p } = j.dataset
  const summary = table(
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
  summary.classList.add('lasso-summary')
  const download = document.createElement('p')
  download.className = 'export'
  download.innerHTML =
    `Coefficients: <a class="beta-csv" href="/api/jobs/${j.id}/beta" download>Download β (CSV)</a> · ` +
    `<a href="/api/jobs/${j.id}/beta?format=f32" download>f32</a> (β on the standardised features)`
  const workers = table(
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
  workers.classList.add('lasso-workers')
  const chart = document.createElement('div')
  chart.className = 'chart'
  card.append(h, summary, download, workers, defences(j), chart)
  return card
}

/** Refusals by code, quarantines (a result that failed its checks), results re-computed, and the edge's counts. */
function defences(j: LassoDetailView): HTMLElement {
  const d = j.defence
  return defenceBox(
    `defences: ${d.quarantines} quarantined · ${d.verified} results re-computed and verified · ` +
      `refused: ${refusals(d)} · edge: ${edgeCounts(j.edge)}`,
    d,
  )
}

/** The objective over rounds, and the nonzero coefficients on a second axis. */
export function plotLasso(j: LassoDetailView, host: HTMLElement): void {
  const data: uPlot.AlignedData = [j.curve.map((c) => c.round), j.curve.map((c) => c.objective), j.curve.map((c) => c.nonzeros)]
  drawChart(j.id, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: 'rounds' }, { label: 'objective' }, { side: 1, scale: 'nnz', label: 'nonzeros', grid: { show: false } }],
    series: [{ label: 'round' }, { label: 'objective', stroke: '#1d4ed8' }, { label: 'nonzeros', stroke: '#b26a00', scale: 'nnz' }],
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
