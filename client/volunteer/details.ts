// The volunteer page's detail cards: the job line, SGD's clocks, shard, rate, paths, peers and bytes, or a Lasso job's
// rounds and blocks. For the curious; the state sentence and "what this tab gave" are for everyone.
import { lassoJob, sgdJob, type WorkerStatus } from '../train/status.ts'
import { bytes, el, setText } from './dom.ts'

let shownApp: WorkerStatus['app'] = 'sgd'
/** Shows the rows of the job's app and hides the other's (SGD's clocks, shards, peers; Lasso's rounds and blocks). */
function showApp(app: WorkerStatus['app']): void {
  if (app === shownApp) return
  shownApp = app
  for (const e of document.querySelectorAll<HTMLElement>('.sgd-only')) e.hidden = app !== 'sgd'
  for (const e of document.querySelectorAll<HTMLElement>('.lasso-only')) e.hidden = app !== 'lasso'
}

/** Fills the detail cards from a status. */
export function renderDetails(s: WorkerStatus): void {
  showApp(s.app)
  if (renderLasso(s)) return
  const job = sgdJob(s)
  setText('job', job ? `${job.name} (${job.id}) · B=${job.hyper.batch} · s=${job.hyper.staleness}` : 'none yet')
  setText('lr', s.lr ? s.lr.toPrecision(3) : '–')
  const paths = Object.entries(s.paths)
  setText('paths', paths.length ? paths.map(([t, p]) => `${t} ${p}`).join(' · ') : '–')
  setText('clock', `${s.clock} (slowest ${s.minClock})`)
  setText('shard', s.shard >= 0 ? `${s.epoch + 1} · ${s.shard}` : '–')
  setText('rate', s.samplesPerSecond.toFixed(1))
  setText('loss', s.lastLoss === null ? '–' : s.lastLoss.toFixed(4))
  setText('p2p-sent', bytes(s.bytes.p2pSent))
  setText('p2p-recv', bytes(s.bytes.p2pReceived))
  setText('relay-recv', bytes(s.bytes.relayReceived))
  setText('ps-recv', bytes(s.bytes.psReceived))
  setText('coord-sent', bytes(s.bytes.coordinatorSent))
  setText('applied', String(s.applied))
  const rows = Object.entries(s.peers).map(([id, state]) => {
    const tr = document.createElement('tr')
    const a = document.createElement('td')
    a.textContent = id
    const b = document.createElement('td')
    b.textContent = state === 'relay' ? 'relay (no direct link)' : state
    b.className = `link-${state}`
    tr.append(a, b)
    return tr
  })
  el('peers').replaceChildren(...(rows.length ? rows : [noPeers()]))
}

function noPeers(): HTMLTableRowElement {
  const tr = document.createElement('tr')
  const td = document.createElement('td')
  td.colSpan = 2
  td.textContent = 'none yet'
  tr.append(td)
  return tr
}

/** A Lasso job's lines: the job (λ, scheduler, staleness), round, blocks and work done; false for an SGD job. */
function renderLasso(s: WorkerStatus): boolean {
  const job = lassoJob(s)
  const l = s.lasso
  if (!job || !l) return false
  setText('job', `${job.name} (${job.id}) · Lasso · λ=${job.lambda.toPrecision(3)} · ${job.hyper.scheduler} · s=${job.hyper.staleness}`)
  setText('round', l.round < 0 ? '–' : `${l.round} (residual after round ${l.view})`)
  const list = l.blocks.length > 8 ? `${l.blocks.slice(0, 8).join(', ')}, …` : l.blocks.join(', ')
  setText('blocks', l.blocks.length ? `${l.blocks.length} (${list}) · ${l.columns} of ${job.dataset.p} columns` : 'none yet')
  setText('tasks', String(l.tasks))
  setText('updates', String(l.updates))
  return true
}
