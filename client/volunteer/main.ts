// The volunteer page: opens WebGPU (or falls back to the CPU), joins a job and shows what this tab is doing.
import SimplePeer from 'simple-peer/simplepeer.min.js'
import { io } from 'socket.io-client'
import { openDevice } from '../gpu/device.ts'
import { backendFor, decideEngine, engineLabel, type EngineAsk, type GpuFound } from '../gpu/engine-choice.ts'
import { CoordinatorLink, type WorkerSocket } from '../transport/coordinator.ts'
import { afterSession } from '../train/rejoin.ts'
import { Session, type Backend } from '../train/session.ts'
import { lassoJob, sgdJob, type WorkerStatus } from '../train/status.ts'
import { bytes, el, setText } from './dom.ts'

/** The engine: WebGPU where the browser has it; the CPU kernels without it, or when the URL says ?engine=cpu. */
async function chooseBackend(params: URLSearchParams): Promise<Backend> {
  const engine = params.get('engine')
  const asked: EngineAsk = engine === 'cpu' || engine === 'webgpu' ? engine : 'auto'
  const flag = (e: EngineAsk) => `?engine=${e}`
  const cpu = (gpu?: GpuFound) => {
    setText('engine', engineLabel(decideEngine(asked, gpu, flag)))
    return backendFor('cpu')
  }
  if (asked === 'cpu') return cpu()
  if (!('gpu' in navigator) || !navigator.gpu) {
    notice('This browser has no WebGPU (ERR_NO_WEBGPU), so this tab trains with the CPU version of the same kernels. It still helps, just more slowly.')
    return cpu({ missing: 'no WebGPU in this browser' })
  }
  try {
    const gpu = await openDevice(navigator.gpu, (why) => notice(`GPU error: ${why}. Reload the page to rejoin.`, true))
    setText('adapter', gpu.adapter)
    setText('limits', gpu.limits)
    const d = decideEngine(asked, gpu, flag)
    setText('engine', engineLabel(d))
    if (d.kind === 'webgpu') return backendFor('webgpu', gpu.device, d.timed ? (r) => setText('engine', engineLabel(r)) : undefined)
    gpu.device.destroy()
    return backendFor('cpu')
  } catch (e) {
    notice(`WebGPU is present but no device could be opened (${(e as Error).message}); training on the CPU instead.`)
    return cpu({ missing: 'WebGPU device unavailable' })
  }
}

function notice(text: string, error = false): void {
  const n = el('notice')
  n.hidden = false
  n.textContent = text
  n.classList.toggle('error', error)
}

let pending = false
/** Set while a tab on the bare URL waits for a job: its last worker's error is not news. */
let waitingForJob = false
function render(s: WorkerStatus): void {
  if (pending) return
  pending = true
  requestAnimationFrame(() => {
    pending = false
    showApp(s.app)
    if (renderLasso(s)) return finish(s)
    const job = sgdJob(s)
    setText('job', job ? `${job.name} (${job.id}) · B=${job.hyper.batch} · s=${job.hyper.staleness}` : 'connecting…')
    setText('lr', s.lr ? s.lr.toPrecision(3) : '–')
    const paths = Object.entries(s.paths)
    setText('paths', paths.length ? paths.map(([t, p]) => `${t} ${p}`).join(' · ') : '–')
    setText('phase', s.phase + (s.error ? ` — ${s.error}` : ''))
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
    el('peers').replaceChildren(...(rows.length ? rows : [Object.assign(document.createElement('tr'), { innerHTML: '<td colspan="2">none yet</td>' })]))
    finish(s)
  })
}

/** The notice for how the work ended (or an error it met), unless the tab is waiting for a job. */
function finish(s: WorkerStatus): void {
  if (waitingForJob) return
  if (s.phase === 'error') notice(`Stopped: ${s.error}`, true)
  else if (s.phase === 'done') notice('The job is done. Thank you for lending your GPU!')
  else if (s.error) notice(s.error, true)
}

let shownApp: WorkerStatus['app'] = 'sgd'
/** Shows the rows of the job's app and hides the other's (SGD's clocks, shards, peers; Lasso's rounds and blocks). */
function showApp(app: WorkerStatus['app']): void {
  if (app === shownApp) return
  shownApp = app
  for (const e of document.querySelectorAll<HTMLElement>('.sgd-only')) e.hidden = app !== 'sgd'
  for (const e of document.querySelectorAll<HTMLElement>('.lasso-only')) e.hidden = app !== 'lasso'
}

/** A Lasso job's lines: the job (λ, scheduler, staleness), round, blocks and work done; false for an SGD job. */
function renderLasso(s: WorkerStatus): boolean {
  const job = lassoJob(s)
  const l = s.lasso
  if (!job || !l) return false
  setText('job', `${job.name} (${job.id}) · Lasso · λ=${job.lambda.toPrecision(3)} · ${job.hyper.scheduler} · s=${job.hyper.staleness}`)
  setText('phase', s.phase + (s.error ? ` — ${s.error}` : ''))
  setText('round', l.round < 0 ? '–' : `${l.round} (residual after round ${l.view})`)
  const list = l.blocks.length > 8 ? `${l.blocks.slice(0, 8).join(', ')}, …` : l.blocks.join(', ')
  setText('blocks', l.blocks.length ? `${l.blocks.length} (${list}) · ${l.columns} of ${job.dataset.p} columns` : 'none yet')
  setText('tasks', String(l.tasks))
  setText('updates', String(l.updates))
  return true
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search)
  const backend = await chooseBackend(params)
  const jobId = params.get('job') ?? undefined
  const leave = el('leave') as HTMLButtonElement
  let left = false
  let unreached = 0
  // A tab opened on the bare URL stays a volunteer: when its job ends, or before any job exists, it waits for the
  // next one. A tab opened for one job (?job=ID) works on that job only.
  for (;;) {
    // No socket.io reconnection: a dropped tab rejoins as a new worker (its shard went back to the pool meanwhile).
    const socket: WorkerSocket = io({ transports: ['websocket'], reconnection: false })
    const worker = new Session({
      backend,
      link: new CoordinatorLink(socket),
      Peer: SimplePeer,
      fetchShard: async (url) => {
        const r = await fetch(url)
        if (!r.ok) throw new Error(`shard ${url}: HTTP ${r.status}`)
        return r.arrayBuffer()
      },
      ...(jobId ? { jobId } : {}),
      p2p: params.get('p2p') !== 'off',
      adapter: el('adapter').textContent ?? '',
      agent: navigator.userAgent,
      onStatus: (st) => {
        if (st.phase !== 'error' && st.phase !== 'starting' && st.phase !== 'connecting') waitingForJob = false
        render(st)
      },
    })
    leave.onclick = () => {
      left = true
      worker.leave()
      leave.disabled = true
      setText('phase', 'left')
    }
    // For the end-to-end tests and the curious: the worker's state and model from the devtools console.
    Object.assign(window, { tabgrid: { worker, status: () => worker.status, readModel: () => worker.readModel() } })
    let code: string | undefined
    await worker.run().catch((e: Error & { code?: string }) => {
      code = e.code
      if (code !== 'ERR_UNKNOWN_JOB' && code !== 'ERR_JOB_CLOSED') console.error(e)
    })
    socket.disconnect()
    const end = afterSession({ code, reached: !!worker.status.workerId, done: worker.status.phase === 'done', left, tied: !!jobId }, unreached)
    unreached = end.unreached
    const next = end.next
    if (next.action === 'stop') break
    const why = next.why
    if (why === 'dropped') notice('The connection to the coordinator dropped; rejoining…', true)
    waitingForJob = why === 'no-job'
    if (why === 'no-job') notice('No job is taking workers on this coordinator right now. Keep this tab open: it joins the next one.')
    await new Promise((r) => setTimeout(r, next.waitMs))
  }
  leave.disabled = true
}

void main()
