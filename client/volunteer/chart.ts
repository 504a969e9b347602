// The volunteer page's live chart of its job: test accuracy over time (SGD) or the objective over rounds (Lasso),
// drawn with uPlot, sized to its card, with a one-line text summary for people who do not see it.
import type uPlot from 'uplot'
import type { JobGlance } from '../../protocol/job.ts'
import { drawChart } from '../charts.ts'

const HEIGHT = 180

/** The chart's data and labels for a job's curve: x ascending (SGD: minutes since the job started; Lasso: rounds). */
export function chartSeries(d: JobGlance): { x: number[]; y: number[]; xLabel: string; yLabel: string; summary: string } {
  if (d.app === 'lasso') {
    const c = d.curve
    const last = c.at(-1)
    return {
      x: c.map((p) => p.round),
      y: c.map((p) => p.objective),
      xLabel: 'round',
      yLabel: 'objective (log scale)',
      summary: last ? `Objective ${last.objective.toPrecision(4)} after round ${last.round} (${last.nonzeros} nonzero coefficients).` : 'No round finished yet.',
    }
  }
  const c = d.curve
  const last = c.at(-1)
  const t0 = d.startedAt ?? c[0]?.t ?? 0
  return {
    x: c.map((p) => (p.t - t0) / 60_000),
    y: c.map((p) => 100 * p.testAccuracy),
    xLabel: 'minutes since the job started',
    yLabel: 'test accuracy %',
    // a point's `samples` is the size of the test set it was measured on
    summary: last ? `Test accuracy ${(100 * last.testAccuracy).toFixed(1)} % at clock ${last.clock} (on ${last.samples.toLocaleString()} test samples).` : 'No evaluation yet.',
  }
}

/**
 * One chart in `host` (its text summary in `caption`), rebuilt when the job or its app changes and fed new data
 * otherwise; its width follows the host's (client/charts.ts).
 *
 * @example
 * const chart = new JobChart(el('chart'), el('chart-summary'))
 * poll = new JobPoll((d) => chart.draw(d))
 */
export class JobChart {
  constructor(
    private readonly host: HTMLElement,
    private readonly caption: HTMLElement,
  ) {}

  draw(d: JobGlance): void {
    const s = chartSeries(d)
    this.caption.textContent = s.summary
    this.host.setAttribute('aria-label', `${d.app === 'lasso' ? 'Objective' : 'Test accuracy'} of job ${d.name}: ${s.summary}`)
    const stroke = d.app === 'lasso' ? '#b26a00' : '#1d4ed8'
    const opts = () => ({
      legend: { show: false },
      cursor: { show: false },
      // the objective falls by orders of magnitude: a log scale shows its late progress too
      scales: { x: { time: false }, y: d.app === 'lasso' ? { distr: 3 } : { range: [0, 100] as uPlot.Range.MinMax } },
      axes: [
        { label: s.xLabel, size: 40, values: (_u: uPlot, v: number[]) => v.map(short) },
        { label: s.yLabel, size: 50, values: (_u: uPlot, v: number[]) => v.map(short) },
      ],
      series: [{}, { label: s.yLabel, stroke, width: 2, points: { show: true, size: 4 } }],
    })
    drawChart(`${d.id}:${d.app}`, this.host, opts, [s.x, s.y], HEIGHT)
  }
}

/** Axis ticks for narrow screens: 12000 → 12k, 1.5e6 → 1.5M; a tick uPlot left out (null, on a log scale) stays blank. */
function short(v: number | null): string {
  if (v === null || !Number.isFinite(v)) return ''
  const a = Math.abs(v)
  if (a >= 1e6) return `${+(v / 1e6).toPrecision(3)}M`
  if (a >= 1e4) return `${+(v / 1e3).toPrecision(3)}k`
  return String(+v.toPrecision(4))
}
