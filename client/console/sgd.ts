// An SGD job's parts as the console shows them: summary, Poseidon's paths per tensor, downloads, disk, live workers,
// defences and the test curve; its card in the job list is these in a row.
import type uPlot from 'uplot'
import type { JobDetail } from '../../protocol/job.ts'
import { bytes } from '../volunteer/dom.ts'
import { drawChart } from '../charts.ts'
import { clockTime } from './clock-time.ts'
import { defenceBox, edgeCounts, refusals } from './defences.ts'
import { cell, pct, table } from './dom.ts'
import { scroller, text } from './view.ts'

/** The card's body in the job list (its heading, controls and chart are the caller's). */
export function sgdCard(j: JobDetail): Node[] {
  return [sgdSummary(j), pathsNote(j), tensorsTable(j), sgdDownloads(j), diskNote(j), liveWorkers(j), sgdDefences(j)]
}

/** One row: model, workers, clocks, staleness, epoch, shards, accuracy, loss, lr, samples/s and bytes. */
export function sgdSummary(j: JobDetail): HTMLElement {
  const t = table(
    ['model', 'workers', 'clock (min–max)', 'staleness (max seen / s)', 'epoch', 'shards', 'test accuracy (best)', 'test loss', 'lr', 'samples', 'samples/s', 'bytes p2p / relay / coordinator'],
    [[
      cell(`${j.model} · ${j.params.toLocaleString('en')} parameters`, 'model'),
      cell(String(j.workers), 'workers'),
      cell(`${j.minClock}–${j.maxClock}`, 'clocks'),
      cell(`${j.maxObservedStaleness} / ${j.hyper.staleness}`),
      cell(`${Math.min(j.epoch + 1, j.hyper.epochs)} of ${j.hyper.epochs}`),
      cell(`${j.shardsDone} / ${j.shardsTotal}`),
      cell(`${pct(j.testAccuracy)} (${pct(j.bestTestAccuracy)})`, 'accuracy'),
      cell(j.testLoss === null ? '–' : j.testLoss.toFixed(4)),
      cell(j.lr.toPrecision(3)),
      cell((j.samples ?? 0).toLocaleString('en'), 'samples'),
      cell(j.samplesPerSecond.toFixed(1)),
      cell(`${bytes(j.bytes.p2p)} / ${bytes(j.bytes.relay)} / ${bytes(j.bytes.coordinator)}`),
    ]],
  )
  t.classList.add('sgd-summary')
  return scroller(t, 'Job summary')
}

/** Poseidon's choice per tensor, from the live numbers it was made with, and what each tensor moved. */
export function tensorsTable(j: JobDetail): HTMLElement {
  const t = table(
    ['tensor', 'shape', 'path', 'sent', 'received', 'of which relayed'],
    j.bytes.tensors.map((x) => [cell(x.name), cell(x.shape.join('×')), cell(x.path, `path-${x.path}`), cell(bytes(x.sent)), cell(bytes(x.received)), cell(bytes(x.relayed ?? 0))]),
  )
  t.classList.add('tensors')
  return scroller(t, 'Bytes per tensor and path')
}

/** The current path decision: version, the numbers behind it, and the newest changes. */
export function pathsNote(j: JobDetail): HTMLElement {
  const c = j.comm
  return text(
    'p',
    'paths',
    `paths v${c.version}, chosen for ${c.workers} workers, batch ${c.batch}${c.fanout !== undefined ? `, fan-out ${c.fanout}` : ''}` + pathChanges(c),
  )
}

/** The model (TF.js Layers format and the raw arena) and the test curve as CSV. */
export function sgdDownloads(j: JobDetail): HTMLElement {
  const id = encodeURIComponent(j.id)
  const p = document.createElement('p')
  p.className = 'export'
  const a = (href: string, label: string, cls = '') => Object.assign(document.createElement('a'), { href, textContent: label, className: cls })
  p.append(
    'Model (TF.js Layers format): ',
    a(`/api/jobs/${id}/export/model.json?download`, 'model.json', 'model-json'),
    ' · ',
    a(`/api/jobs/${id}/export/weights.bin?download`, 'weights.bin', 'weights-bin'),
    ' · raw arena ',
    a(`/api/jobs/${id}/model`, 'f32', 'model-f32'),
    ' · test curve ',
    a(`/api/jobs/${id}/curve.csv`, 'CSV', 'curve-csv'),
  )
  for (const link of p.querySelectorAll('a')) link.setAttribute('download', '')
  return p
}

/** What the data directory keeps of the job, or that it lives in memory. */
export function diskNote(j: JobDetail): HTMLElement {
  return text(
    'p',
    'disk',
    j.disk
      ? `Kept on disk: ${j.disk.updates} updates and ${j.disk.snapshots} snapshots, ${(j.disk.bytes / 2 ** 20).toFixed(1)} MiB; its model can be rebuilt at any clock from ${j.disk.oldestClock} on (tabgrid rollback).`
      : 'Kept in memory only: the job is lost if the coordinator stops.',
  )
}

/** The live workers: engine, clock, samples, speed, loss, time per clock, links and the shards they hold. */
export function liveWorkers(j: JobDetail): HTMLElement {
  const t = table(
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
      cell(w.leases.map((l) => `${l.epoch + 1}:${l.shard}`).join(' ') || (w.paused ? 'paused' : 'idle')),
    ]),
  )
  t.classList.add('workers')
  return scroller(t, 'Workers')
}

/** What the defences did for this job: refusals by code, quarantines (newest first) and the edge's counts. */
export function sgdDefences(j: JobDetail): HTMLElement {
  const d = j.defence
  return defenceBox(
    `defences: ${d.quarantines} quarantined (${d.undone.updates} updates, ${d.undone.shards} shards taken back) · ` +
      `refused: ${refusals(d)} · edge: ${edgeCounts(j.edge)} · ` +
      `peer reports: ${d.reports.missing} missing, ${d.reports.mismatch} different${d.flagged.length ? ` · relay only: ${d.flagged.join(' ')}` : ''}`,
    d,
  )
}

/** The test curve, accuracy and loss, over seconds since the job started (or its first evaluation) or over clocks. */
export function plotSgd(j: JobDetail, host: HTMLElement, key: string, x: 'seconds' | 'clock' = 'seconds'): void {
  const t0 = j.startedAt ?? j.curve[0]?.t ?? 0
  // the evaluation of the initial model may come before the start (the job waited for workers): it sits at 0
  const xs = x === 'seconds' ? j.curve.map((p) => Math.max(0, (p.t - t0) / 1000)) : j.curve.map((p) => p.clock)
  const data: uPlot.AlignedData = [xs, j.curve.map((p) => p.testAccuracy), j.curve.map((p) => p.testLoss)]
  drawChart(`${key}:${x}`, host, () => ({
    scales: { x: { time: false } },
    axes: [{ label: x === 'seconds' ? 'seconds' : 'clock' }, { label: 'test accuracy' }, { side: 1, scale: 'loss', label: 'test loss', grid: { show: false } }],
    series: [{ label: x }, { label: 'accuracy', stroke: '#1b7f3b' }, { label: 'loss', stroke: '#b3261e', scale: 'loss' }],
  }), data)
}

/** The path decisions since the first, counted by version (the history keeps the first and the newest 255), newest 5 named. */
function pathChanges(c: JobDetail['comm']): string {
  const changes = c.version - c.history[0].version
  if (changes <= 0) return ''
  const newest = c.history.slice(1).slice(-5)
  return ` · ${changes} change(s), the latest: ` + newest.map((d) => `clock ${d.clock} at ${d.workers} workers`).join(', ')
}
