// The operator console (first version): every job, its live workers and its test curve, refreshed each second.
import uPlot from 'uplot'
import 'uplot/dist/uPlot.min.css'
import type { JobDetail, JobSummary, WorkerView } from '../../protocol/job.ts'
import { bytes } from '../volunteer/dom.ts'

const charts = new Map<string, uPlot>()
const root = document.getElementById('jobs')!

function cell(text: string, cls = ''): HTMLTableCellElement {
  const td = document.createElement('td')
  td.textContent = text
  if (cls) td.className = cls
  return td
}

function table(head: string[], rows: HTMLTableCellElement[][]): HTMLTableElement {
  const t = document.createElement('table')
  const tr = t.createTHead().insertRow()
  for (const h of head) tr.append(Object.assign(document.createElement('th'), { textContent: h }))
  const body = t.createTBody()
  for (const r of rows) body.insertRow().append(...r)
  return t
}

function pct(x: number | null): string {
  return x === null ? '–' : `${(100 * x).toFixed(2)} %`
}

function jobCard(j: JobDetail): HTMLElement {
  const card = document.createElement('section')
  card.className = 'card'
  card.dataset.job = j.id
  const h = document.createElement('h2')
  h.innerHTML = `${j.name} <small>${j.id}</small> · <span class="state-${j.state}">${j.state}</span>`
  const summary = table(
    ['model', 'workers', 'clock (min–max)', 'staleness (max seen / s)', 'epoch', 'shards', 'test accuracy (best)', 'test loss', 'lr', 'samples/s', 'bytes p2p / relay / coordinator'],
    [[
      cell(`${j.model} · ${j.params.toLocaleString('en')} parameters`, 'model'),
      cell(String(j.workers), 'workers'),
      cell(`${j.minClock}–${j.maxClock}`),
      cell(`${j.maxObservedStaleness} / ${j.hyper.staleness}`),
      cell(`${Math.min(j.epoch + 1, j.hyper.epochs)} of ${j.hyper.epochs}`),
      cell(`${j.shardsDone} / ${j.shardsTotal}`),
      cell(`${pct(j.testAccuracy)} (${pct(j.bestTestAccuracy)})`, 'accuracy'),
      cell(j.testLoss === null ? '–' : j.testLoss.toFixed(4)),
      cell(j.lr.toPrecision(3)),
      cell(j.samplesPerSecond.toFixed(1)),
      cell(`${bytes(j.bytes.p2p)} / ${bytes(j.bytes.relay)} / ${bytes(j.bytes.coordinator)}`),
    ]],
  )
  // Poseidon's choice per tensor, from the live numbers it was made with, and what each tensor moved.
  const c = j.comm
  const tensors = table(
    ['tensor', 'shape', 'path', 'sent', 'received'],
    j.bytes.tensors.map((t) => [cell(t.name), cell(t.shape.join('×')), cell(t.path, `path-${t.path}`), cell(bytes(t.sent)), cell(bytes(t.received))]),
  )
  tensors.classList.add('tensors')
  const decided = document.createElement('p')
  decided.className = 'paths'
  decided.textContent =
    `paths v${c.version}, chosen for ${c.workers} workers, batch ${c.batch}${c.fanout !== undefined ? `, fan-out ${c.fanout}` : ''}` +
    pathChanges(c)
  const download = document.createElement('p')
  download.className = 'export'
  download.innerHTML =
    `Model (TF.js Layers format): <a href="/api/jobs/${j.id}/export/model.json?download">model.json</a> · ` +
    `<a href="/api/jobs/${j.id}/export/weights.bin?download">weights.bin</a> · raw arena <a href="/api/jobs/${j.id}/model">f32</a>`
  const kept = document.createElement('p')
  kept.className = 'disk'
  kept.textContent = j.disk
    ? `Kept on disk: ${j.disk.updates} updates and ${j.disk.snapshots} snapshots, ${(j.disk.bytes / 2 ** 20).toFixed(1)} MiB; its model can be rebuilt at any clock from ${j.disk.oldestClock} on (tabgrid rollback).`
    : 'Kept in memory only: the job is lost if the coordinator stops.'
  const workers = table(
    ['worker', 'engine', 'adapter', 'clock', 'samples', 'samples/s', 'batch loss', 'ms per clock: engine · send · apply · wait · other', 'links', 'shard'],
    j.workersList.map((w) => [
      cell(w.id),
      cell(w.engine),
      cell(w.adapter || '–'),
      cell(w.clock === null ? (w.ready ? '–' : 'linking') : String(w.clock)),
      cell(String(w.samples)),
      cell(w.samplesPerSecond.toFixed(1)),
      cell(w.lastLoss === null ? '–' : w.lastLoss.toFixed(4)),
      cell(clockTime(w.time)),
      cell(Object.entries(w.links).map(([p, s]) => `${p}:${s}`).join(' ') || '–'),
      cell(w.leases.map((l) => `${l.epoch + 1}:${l.shard}`).join(' ') || 'idle'),
    ]),
  )
  const chart = document.createElement('div')
  chart.className = 'chart'
  card.append(h, summary, decided, tensors, download, kept, workers, defences(j), chart)
  return card
}

/** What the defences did for this job: refusals by code, quarantines (newest first) and the edge's counts. */
function defences(j: JobDetail): HTMLElement {
  const d = j.defence
  const e = j.edge
  const box = document.createElement('div')
  box.className = 'defence'
  const codes = Object.entries(d.rejected).map(([code, n]) => `${code} ${n}`)
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
  const line = document.createElement('p')
  line.textContent =
    `defences: ${d.quarantines} quarantined (${d.undone.updates} updates, ${d.undone.shards} shards taken back) · ` +
    `refused: ${codes.join(', ') || 'none'} · edge: ${edge.map(([k, n]) => `${k} ${n}`).join(', ') || 'none'} · ` +
    `peer reports: ${d.reports.missing} missing, ${d.reports.mismatch} different${d.flagged.length ? ` · relay only: ${d.flagged.join(' ')}` : ''}`
  box.append(line)
  if (d.recent.length) {
    const q = table(
      ['quarantined', 'when', 'why', 'undone'],
      [...d.recent].reverse().map((r) => [cell(r.worker), cell(new Date(r.at).toLocaleTimeString()), cell(r.reason), cell(String(r.undone))]),
    )
    q.classList.add('quarantines')
    box.append(q)
  }
  return box
}

function plot(j: JobDetail, host: HTMLElement): void {
  const t0 = j.curve[0]?.t ?? 0
  const data: uPlot.AlignedData = [j.curve.map((p) => (p.t - t0) / 1000), j.curve.map((p) => p.testAccuracy), j.curve.map((p) => p.testLoss)]
  let u = charts.get(j.id)
  if (!u || !host.contains(u.root)) {
    u?.destroy()
    u = new uPlot(
      {
        width: Math.max(320, host.clientWidth || 640),
        height: 220,
        scales: { x: { time: false } },
        axes: [{ label: 'seconds' }, { label: 'test accuracy' }, { side: 1, scale: 'loss', label: 'test loss', grid: { show: false } }],
        series: [{ label: 'seconds' }, { label: 'accuracy', stroke: '#1b7f3b' }, { label: 'loss', stroke: '#b3261e', scale: 'loss' }],
      },
      data,
      host,
    )
    charts.set(j.id, u)
  } else u.setData(data)
}

async function refresh(): Promise<void> {
  try {
    const list = (await (await fetch('/api/jobs')).json()) as JobSummary[]
    const details = await Promise.all(list.map(async (s) => (await (await fetch(`/api/jobs/${s.id}`)).json()) as JobDetail))
    if (!details.length) {
      root.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'No jobs yet. Create one with `tabgrid job create` or POST /api/jobs.' }))
      return
    }
    const cards = details.reverse().map((j) => {
      const card = jobCard(j)
      const old = root.querySelector<HTMLElement>(`section[data-job="${j.id}"] .chart`)
      const host = card.querySelector<HTMLElement>('.chart')!
      if (old) host.replaceWith(old)
      return { card, j }
    })
    root.replaceChildren(...cards.map((c) => c.card))
    for (const { card, j } of cards) plot(j, card.querySelector<HTMLElement>('.chart')!)
  } catch (e) {
    root.replaceChildren(Object.assign(document.createElement('p'), { textContent: `Cannot reach the coordinator: ${(e as Error).message}` }))
  }
}

void refresh()
setInterval(() => void refresh(), 1000)

/** The path decisions since the first, counted by version (the history keeps the first and the newest 255), newest 5 named. */
function pathChanges(c: JobDetail['comm']): string {
  const changes = c.version - c.history[0].version
  if (changes <= 0) return ''
  const newest = c.history.slice(1).slice(-5)
  return ` · ${changes} change(s), the latest: ` + newest.map((d) => `clock ${d.clock} at ${d.workers} workers`).join(', ')
}

/** A worker's time accounting as ms per clock: engine · send · apply · wait · other. */
function clockTime(t: WorkerView['time']): string {
  if (!t || t.clocks === 0) return '–'
  return [t.engineMs, t.sendMs, t.applyMs, t.waitMs, t.otherMs].map((ms) => (ms / t.clocks).toFixed(1)).join(' · ')
}
