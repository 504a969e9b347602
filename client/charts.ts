// The pages' uPlot charts, kept across refreshes (built once, then fed new data) and sized to their container.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'

const charts = new Map<string, uPlot>()
/** A chart's height unless its caller says otherwise. */
const HEIGHT = 220

/** Resizes each chart to its host's width as the page's layout changes (a phone turned, a window narrowed). */
const resizer = new ResizeObserver((entries) => {
  for (const e of entries) {
    const u = [...charts.values()].find((c) => c.root.parentElement === e.target)
    const w = Math.floor(e.contentRect.width)
    if (u && w > 0 && Math.abs(u.width - w) > 1) u.setSize({ width: w, height: u.height })
  }
})

/**
 * Draws `data` in the chart kept under `key` inside `host`, building it from `opts()` when the host has none yet (or
 * `key` names another kind of chart now, e.g. the x axis switched from seconds to clocks).
 *
 * @example
 * drawChart(`${id}:acc`, host, () => ({ series: [{}, { label: 'accuracy' }] }), [xs, ys])
 */
export function drawChart(key: string, host: HTMLElement, opts: () => Omit<uPlot.Options, 'width' | 'height'>, data: uPlot.AlignedData, height = HEIGHT): void {
  let u = charts.get(key)
  if (!u || !host.contains(u.root)) {
    for (const [k, c] of charts) {
      if (c !== u && !host.contains(c.root)) continue
      c.destroy()
      charts.delete(k)
    }
    host.replaceChildren()
    u = new uPlot({ width: Math.max(200, Math.floor(host.clientWidth) || 600), height, ...opts() }, data, host)
    charts.set(key, u)
    resizer.observe(host)
  } else u.setData(data)
}
