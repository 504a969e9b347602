// A Lasso job's page: the objective over rounds or time, workers (the departed kept), and the defences.
import type { LassoDetailView } from './api.ts'
import { lassoDefences, lassoDownloads, lassoSummary, plotLasso } from './lasso.ts'
import { block, chartWithAxis, hostOf, type PageParts } from './page.ts'
import { text } from './view.ts'
import { lassoWorkersTable } from './workers.ts'

/** The parts of a Lasso job's page. */
export function lassoPage(j: LassoDetailView): PageParts {
  const id = j.id
  const departed = j.departed ?? []
  const obj = chartWithAxis(`page:${id}:obj`, [['rounds', 'rounds'], ['seconds', 'time']], () => drawObj())
  const drawObj = () => plotLasso(j, hostOf(`page:${id}:obj`), `page:${id}:obj`, obj.value())
  const last = j.curve.at(-1)
  const blocks = [
    block(id, 'objective', 'Objective and nonzero coefficients', [
      text('p', 'note', last ? `objective ${last.objective.toPrecision(7)} after round ${last.round}, ${last.nonzeros} nonzeros, ${last.updates.toLocaleString('en')} updates.` : 'No round yet.'),
      ...obj.nodes,
    ]),
    block(id, 'workers', 'Workers', [
      text('p', 'note', `${j.workersList.length} working now${departed.length ? `, ${departed.length} left (greyed, with what they gave)` : ''}.`),
      lassoWorkersTable(j),
    ]),
    block(id, 'defences', 'Defences', [lassoDefences(j)]),
  ]
  blocks[0].classList.add('chart-block')
  return { top: [lassoSummary(j), lassoDownloads(j)], blocks, draw: drawObj }
}
