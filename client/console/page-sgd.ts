// An SGD job's page: the test curve over time or clocks, throughput and the SSP spread, workers (the departed kept),
// time per clock by part, bytes per tensor and path, the ledger's proof, and the defences.
import type { JobDetail } from '../../protocol/job.ts'
import { bytes } from '../volunteer/dom.ts'
import { clockTimeLegend, clockTimeTable } from './clock-time.ts'
import { ledgerTable } from './ledger.ts'
import { block, chartWithAxis, hostOf, type PageParts } from './page.ts'
import { plotSpread, plotThroughput } from './progress.ts'
import { diskNote, pathsNote, plotSgd, sgdDefences, sgdDownloads, sgdSummary, tensorsTable } from './sgd.ts'
import { text } from './view.ts'
import { sgdWorkersTable } from './workers.ts'

/** The parts of an SGD job's page. */
export function sgdPage(j: JobDetail): PageParts {
  const id = j.id
  const progress = j.progress ?? []
  const departed = j.departed ?? []
  const acc = chartWithAxis(`page:${id}:acc`, [['seconds', 'time'], ['clock', 'clocks']], () => drawAcc())
  const drawAcc = () => plotSgd(j, hostOf(`page:${id}:acc`), `page:${id}:acc`, acc.value())
  const thr = chartWithAxis(`page:${id}:thr`, [['seconds', 'time']], () => undefined)
  const spread = chartWithAxis(`page:${id}:spread`, [['seconds', 'time']], () => undefined)
  const last = j.curve.at(-1)
  const ended = j.ledger.filter((e) => e.processed === e.shards && e.missing.length === 0).length
  const blocks = [
    block(id, 'accuracy', 'Test accuracy and loss', [
      text('p', 'note', last ? `${j.curve.length} evaluations; the newest at clock ${last.clock}: accuracy ${(100 * last.testAccuracy).toFixed(2)} %, loss ${last.testLoss.toFixed(4)} on ${last.samples.toLocaleString('en')} test samples.` : 'No evaluation yet.'),
      ...acc.nodes,
    ]),
    block(id, 'throughput', 'Samples per second and workers', [text('p', 'note', `${(j.samples ?? 0).toLocaleString('en')} samples in accepted updates; ${j.samplesPerSecond.toFixed(1)} samples/s now.`), ...thr.nodes]),
    block(id, 'spread', 'SSP spread: the slowest and the fastest clock', [
      text('p', 'note', `clocks ${j.minClock}–${j.maxClock} now; staleness bound s = ${j.hyper.staleness}, the most seen ${j.maxObservedStaleness}.`),
      ...spread.nodes,
    ]),
    block(id, 'workers', 'Workers', [
      text('p', 'note', `${j.workersList.length} working now${departed.length ? `, ${departed.length} left (greyed, with what they gave)` : ''}.`),
      sgdWorkersTable(j),
    ]),
    block(id, 'time', 'Time per clock by part', [clockTimeLegend(), clockTimeTable(j)]),
    block(id, 'tensors', 'Bytes per tensor and path', [
      text('p', 'note', `p2p ${bytes(j.bytes.p2p)} · relay ${bytes(j.bytes.relay)} · coordinator ${bytes(j.bytes.coordinator)}`),
      pathsNote(j),
      tensorsTable(j),
    ]),
    block(id, 'ledger', 'Ledger: every shard once per epoch', [
      text('p', 'note', `${ended} of ${j.hyper.epochs} epochs proven whole; ${j.returned.length} shard leases returned to the pool (a worker left or stalled).`),
      ledgerTable(j),
    ]),
    block(id, 'defences', 'Defences', [sgdDefences(j)]),
  ]
  for (const b of blocks.slice(0, 3)) b.classList.add('chart-block')
  return {
    top: [sgdSummary(j), sgdDownloads(j), diskNote(j)],
    blocks,
    draw: () => {
      drawAcc()
      plotThroughput(progress, hostOf(`page:${id}:thr`), `page:${id}:thr`, j.startedAt)
      plotSpread(progress, hostOf(`page:${id}:spread`), `page:${id}:spread`, j.startedAt)
    },
  }
}
