// Where an SGD job's clocks go: per worker and summed, ms per clock by part (engine · send · apply · wait · other),
// as numbers and as a stacked bar.
import type { ClockTime } from '../../protocol/messages.ts'
import type { JobDetail } from '../../protocol/job.ts'
import { cell, table } from './dom.ts'
import { scroller } from './view.ts'

const PARTS = [
  ['engine', 'engineMs'],
  ['send', 'sendMs'],
  ['apply', 'applyMs'],
  ['wait', 'waitMs'],
  ['other', 'otherMs'],
] as const

/** A worker's time accounting as ms per clock: engine · send · apply · wait · other, or '–' before its first clock. */
export function clockTime(t: ClockTime | undefined): string {
  if (!t || t.clocks === 0) return '–'
  return PARTS.map(([, k]) => (t[k] / t.clocks).toFixed(1)).join(' · ')
}

/** The table: a row per live worker that reported its time, then the job's sum over them. */
export function clockTimeTable(j: JobDetail): HTMLElement {
  const rows = j.workersList.filter((w) => w.time && w.time.clocks > 0).map((w) => ({ who: w.id, t: w.time! }))
  const sum = rows.reduce<ClockTime>(
    (s, { t }) => ({ clocks: s.clocks + t.clocks, rows: s.rows + t.rows, engineMs: s.engineMs + t.engineMs, sendMs: s.sendMs + t.sendMs, applyMs: s.applyMs + t.applyMs, waitMs: s.waitMs + t.waitMs, otherMs: s.otherMs + t.otherMs }),
    { clocks: 0, rows: 0, engineMs: 0, sendMs: 0, applyMs: 0, waitMs: 0, otherMs: 0 },
  )
  if (rows.length > 1) rows.push({ who: 'all workers', t: sum })
  const t = table(
    ['worker', 'clocks', ...PARTS.map(([p]) => `${p} ms`), 'ms per clock', 'share'],
    rows.map(({ who, t }) => {
      const per = (k: (typeof PARTS)[number][1]) => t[k] / t.clocks
      const total = PARTS.reduce((s, [, k]) => s + per(k), 0)
      const share = cell('', 'share')
      share.append(bar(t))
      return [cell(who), cell(String(t.clocks)), ...PARTS.map(([p, k]) => cell(per(k).toFixed(1), `part-${p}`)), cell(total.toFixed(1)), share]
    }),
  )
  t.classList.add('clock-time')
  if (rows.length > 1) t.tBodies[0].rows[rows.length - 1].classList.add('total')
  if (!rows.length) t.tBodies[0].insertRow().append(Object.assign(cell(j.workersList.length ? 'no worker has reported its time yet' : 'no live worker (the time of those that left is not kept)'), { colSpan: 9 }))
  return scroller(t, 'Time per clock by part')
}

/** A stacked bar of the parts' shares (its label says them in words). */
function bar(t: ClockTime): HTMLElement {
  const total = PARTS.reduce((s, [, k]) => s + t[k], 0) || 1
  const b = document.createElement('div')
  b.className = 'time-bar'
  b.setAttribute('role', 'img')
  b.setAttribute('aria-label', PARTS.map(([p, k]) => `${p} ${Math.round((100 * t[k]) / total)} %`).join(', '))
  for (const [p, k] of PARTS) {
    const seg = document.createElement('span')
    seg.className = `seg-${p}`
    seg.style.width = `${((100 * t[k]) / total).toFixed(1)}%`
    b.append(seg)
  }
  return b
}

/** The legend of the bars' colours. */
export function clockTimeLegend(): HTMLElement {
  const p = document.createElement('p')
  p.className = 'time-legend'
  for (const [part] of PARTS) {
    const key = Object.assign(document.createElement('span'), { className: `key seg-${part}` })
    key.setAttribute('aria-hidden', 'true')
    p.append(key, ` ${part} `)
  }
  return p
}
