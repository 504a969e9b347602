// The shard ledger's proof, epoch by epoch: shards processed of the epoch's count, and any that were missed.
import type { JobDetail } from '../../protocol/job.ts'
import { cell, table } from './dom.ts'
import { scroller } from './view.ts'

/** A row per epoch: processed / shards, the missing shards, and whether the epoch is complete (each shard once). */
export function ledgerTable(j: JobDetail): HTMLElement {
  const ended = j.state === 'done' || j.state === 'failed'
  // epochs not begun yet are one line, not a row each
  const shown = j.ledger.filter((e) => ended || e.epoch <= j.epoch || e.processed > 0)
  const rows = shown.map((e) => {
    const whole = e.processed === e.shards && e.missing.length === 0
    const open = !ended && e.epoch >= j.epoch && !whole
    return [
      cell(String(e.epoch + 1)),
      cell(`${e.processed} / ${e.shards}`, 'processed'),
      cell(e.missing.length ? (open ? `${e.missing.length} still to process` : listed(e.missing)) : 'none', 'missing'),
      cell(whole ? 'every shard once' : open ? 'in progress' : 'incomplete', whole ? 'proof ok' : 'proof'),
    ]
  })
  const later = j.ledger.length - shown.length
  if (later > 0) rows.push([cell(`${shown.length + 1}–${j.ledger.length}`), cell('–'), cell(`${later} epoch(s) not begun`), cell('')])
  const t = table(['epoch', 'processed / shards', 'missing', 'proof'], rows)
  t.classList.add('ledger')
  return scroller(t, 'Ledger: shards per epoch')
}

/** Up to 20 shard numbers, then how many more. */
function listed(xs: number[]): string {
  return xs.length > 20 ? `${xs.slice(0, 20).join(' ')} … (${xs.length} in all)` : xs.join(' ')
}
