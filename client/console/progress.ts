// Charts from a job's once-a-second progress samples: throughput (samples/s, workers) and the SSP spread (min and
// max clock) over time.
import uPlot from 'uplot'
import type { ProgressPoint } from '../../protocol/job.ts'
import { drawChart } from '../charts.ts'

/** Samples per second between consecutive progress points, with the workers at each, over seconds since `start`. */
export function plotThroughput(points: ProgressPoint[], host: HTMLElement, key: string, start: number | null, unit = 'samples/s'): void {
  const t0 = start ?? points[0]?.t ?? 0
  const rate = points.map((p, i) => {
    const q = points[i - 1]
    return q && p.t > q.t ? (1000 * (p.samples - q.samples)) / (p.t - q.t) : null
  })
  const data: uPlot.AlignedData = [points.map((p) => (p.t - t0) / 1000), rate, points.map((p) => p.workers)]
  drawChart(key, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: 'seconds' }, { label: unit }, { side: 1, scale: 'w', label: 'workers', grid: { show: false } }],
    series: [{ label: 'seconds' }, { label: unit, stroke: '#1d4ed8', spanGaps: true }, { label: 'workers', stroke: '#5a6375', scale: 'w', paths: uPlot.paths.stepped?.({ align: 1 }) }],
  }), data)
}

/** The slowest and the fastest worker's clocks over seconds since `start`: the band SSP keeps within the staleness bound. */
export function plotSpread(points: ProgressPoint[], host: HTMLElement, key: string, start: number | null): void {
  const t0 = start ?? points[0]?.t ?? 0
  const data: uPlot.AlignedData = [points.map((p) => (p.t - t0) / 1000), points.map((p) => p.minClock), points.map((p) => p.maxClock)]
  drawChart(key, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: 'seconds' }, { label: 'clock' }],
    series: [{ label: 'seconds' }, { label: 'min clock', stroke: '#b3261e' }, { label: 'max clock', stroke: '#1b7f3b' }],
    bands: [{ series: [2, 1], fill: 'rgba(29, 78, 216, 0.08)' }],
  }), data)
}
