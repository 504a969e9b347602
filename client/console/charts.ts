// The console's uPlot charts, one per job, kept across refreshes: built once, then fed new data.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

const charts = new Map<string, uPlot>()

/** Draws `data` in the job's chart inside `host`, building it from `opts()` when the host has none yet. */
export function drawChart(job: string, host: HTMLElement, opts: () => Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData): void {
  let u = charts.get(job)
  if (!u || !host.contains(u.root)) {
    u?.destroy()
    u = new uPlot({ width: Math.max(320, host.clientWidth || 640), height: 220, ...opts() }, data, host)
    charts.set(job, u)
  } else u.setData(data)
}
