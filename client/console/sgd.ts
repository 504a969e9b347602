// An SGD job's card in the console: summary, Poseidon's paths per tensor, exports, workers, defences, test curve.
import type uPlot from 'uplot'
import type { JobDetail, WorkerView } from '../../protocol/job.ts'
import { bytes } from '../volunteer/dom.ts'
import { drawChart } from './charts.ts'
import { defenceBox, edgeCounts, refusals } from './defences.ts'
import { cell, heading, pct, table } from './dom.ts'

export function sgdCard(j: JobDetail): HTMLElement {
  const card = document.createElement('section')
  card.className = 'card'
  card.dataset.job = j.id
  card.id = `job-${j.id}`
  const h = heading(j)
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
  return defenceBox(
    `defences: ${d.quarantines} quarantined (${d.undone.updates} updates, ${d.undone.shards} shards taken back) · ` +
      `refused: ${refusals(d)} · edge: ${edgeCounts(j.edge)} · ` +
      `peer reports: ${d.reports.missing} missing, ${d.reports.mismatch} different${d.flagged.length ? ` · relay only: ${d.flagged.join(' ')}` : ''}`,
    d,
  )
}

/** The test curve: accuracy and loss over seconds since the first evaluation. */
export function plotSgd(j: JobDetail, host: HTMLElement): void {
  const t0 = j.curve[0]?.t ?? 0
  const data: uPlot.AlignedData = [j.curve.map((p) => (p.t - t0) / 1000), j.curve.map((p) => p.testAccuracy), j.curve.map((p) => p.testLoss)]
  drawChart(j.id, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: 'seconds' }, { label: 'test accuracy' }, { side: 1, scale: 'loss', label: 'test loss', grid: { show: false } }],
    series: [{ label: 'seconds' }, { label: 'accuracy', stroke: '#1b7f3b' }, { label: 'loss', stroke: '#b3261e', scale: 'loss' }],
  }), data)
}

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
