// What the defences did for a job, as the console shows it: refusals by code, the edge's counts, quarantines.
import type { DefenceView, EdgeView } from '../../protocol/job.ts'
import { cell, table } from './dom.ts'

/** Refused worker messages by code: `ERR_X 3, ERR_Y 1`, or 'none'. */
export function refusals(d: DefenceView): string {
  return Object.entries(d.rejected).map(([code, n]) => `${code} ${n}`).join(', ') || 'none'
}

/** The socket edge's non-zero counts for the job, or 'none'. */
export function edgeCounts(e: EdgeView): string {
  const edge = [
    ['ERR_RATE_LIMITED', e.rateLimited],
    ['flood closed', e.floodClosed],
    ['flood refused', e.floodRefused],
    ['ERR_ADDRESS_LIMIT', e.addressLimited],
    ['ERR_READY_TIMEOUT', e.readyTimeouts],
    ['ERR_BANNED', e.banned],
    ['addresses banned', e.bannedAddresses],
    ['lease back-offs', e.backoffs],
    ['bad packets', e.badPackets],
  ].filter(([, n]) => n)
  return edge.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'
}

/** The newest quarantines, newest first, as a table; null when there were none. */
export function quarantineTable(d: DefenceView): HTMLTableElement | null {
  if (!d.recent.length) return null
  const q = table(
    ['quarantined', 'when', 'why', 'undone'],
    [...d.recent].reverse().map((r) => [cell(r.worker), cell(new Date(r.at).toLocaleTimeString()), cell(r.reason), cell(String(r.undone))]),
  )
  q.classList.add('quarantines')
  return q
}

/** A defence box: one line of text, then the quarantine table when there is one. */
export function defenceBox(text: string, d: DefenceView): HTMLElement {
  const box = document.createElement('div')
  box.className = 'defence'
  const line = document.createElement('p')
  line.textContent = text
  box.append(line)
  const q = quarantineTable(d)
  if (q) box.append(q)
  return box
}
