// The volunteer page: chooses the engine, joins jobs one session after another, and shows what this tab is doing,
// what it gave, and its job's progress; the volunteer can pause it or throttle it.
import SimplePeer from 'simple-peer/simplepeer.min.js'
import { io } from 'socket.io-client'
import { CoordinatorLink, type WorkerSocket } from '../transport/coordinator.ts'
import { afterSession } from '../train/rejoin.ts'
import { Session } from '../train/session.ts'
import type { WorkerStatus } from '../train/status.ts'
import { JobChart } from './chart.ts'
import { Controls } from './controls.ts'
import { chooseBackend, type DeviceView } from './device.ts'
import { renderDetails } from './details.ts'
import { el, setData, setText } from './dom.ts'
import { renderGave } from './gave.ts'
import type { JobGlance } from '../../protocol/job.ts'
import { JobPoll } from './job-poll.ts'
import { describeState, type PageContext } from './state.ts'
import { Tally } from './tally.ts'
import './volunteer.css'

/** Kinds of notice: a job-end thank-you goes once the next job is joined; the others stay. */
type NoticeKind = 'device' | 'gpu-error' | 'job-end'
let noticeKind: NoticeKind | null = null

function notice(text: string, kind: NoticeKind, error = false): void {
  const n = el('notice')
  n.hidden = false
  n.textContent = text
  n.classList.toggle('error', error)
  noticeKind = kind
}

function clearNotice(kind: NoticeKind): void {
  if (noticeKind !== kind) return
  el('notice').hidden = true
  noticeKind = null
}

function showDevice(v: Partial<DeviceView>): void {
  if (v.engine !== undefined) setText('engine', v.engine)
  if (v.adapter !== undefined) setText('adapter', v.adapter)
  if (v.limits !== undefined) setText('limits', v.limits)
  if (v.sentence !== undefined) setText('device', v.sentence)
}

const params = new URLSearchParams(location.search)
const jobId = params.get('job') ?? undefined
const ctx: PageContext = { tied: !!jobId, left: false, waitingForJob: false }
const tally = new Tally()
const controls = new Controls(el('pause') as HTMLButtonElement, el('throttle'))
const chart = new JobChart(el('chart'), el('chart-summary'))
/** The job the "gave" card and the chart are about: the one at hand, or the last one worked on. */
let shownJob: string | null = null
let detail: JobGlance | null = null
/** This page's work on the job when `detail` came: its share is of the job's total then, not of an older one. */
let mineAtDetail = 0
let current: WorkerStatus | null = null
const poll = new JobPoll((d) => {
  detail = d
  mineAtDetail = tally.job(d.id)?.work ?? 0
  chart.draw(d)
  renderGave(tally, shownJob, detail, mineAtDetail)
})

/** The state sentence (#state) and word (#phase), with data-state for tests and tone for the looks. */
function renderState(s: WorkerStatus): void {
  const v = describeState(s, ctx)
  setText('state', v.sentence)
  setData('state', { state: v.state, tone: v.tone })
  el('state').classList.toggle('error', v.tone === 'error')
  setText('phase', v.state)
  setData('phase', { state: v.state, phase: s.phase })
  const raw = v.tone === 'error' && s.error ? s.error : ''
  setText('error-detail', raw)
  el('error-detail').hidden = !raw
}

let pending = false
function render(): void {
  if (pending) return
  pending = true
  requestAnimationFrame(() => {
    pending = false
    const s = current
    if (!s) return
    renderState(s)
    renderDetails(s)
    renderGave(tally, shownJob, detail, mineAtDetail)
  })
}

/** Every status a session reports: counted at once (even in a hidden tab, where frames wait), drawn at the next frame. */
function onStatus(s: WorkerStatus): void {
  current = s
  tally.observe(s)
  if (s.phase !== 'error' && s.phase !== 'starting' && s.phase !== 'connecting') ctx.waitingForJob = false
  if (s.job && s.job.id !== shownJob) {
    // a new job: the last one's thank-you and chart give way to it
    shownJob = s.job.id
    detail = null
    clearNotice('job-end')
    el('chart-title').textContent = s.app === 'lasso' ? 'The job’s objective' : 'The job’s test accuracy'
  }
  if (s.job) poll.follow(s.job.id)
  if (s.phase === 'done' && noticeKind !== 'job-end') {
    const v = describeState(s, ctx)
    notice(v.sentence, 'job-end')
  }
  render()
}

// time at work is counted once a second, and the card redrawn with it
setInterval(() => {
  tally.tick()
  renderGave(tally, shownJob, detail, mineAtDetail)
}, 1000)

async function main(): Promise<void> {
  const { backend, adapter } = await chooseBackend(params, { show: showDevice, notice: (text, error) => notice(text, error ? 'gpu-error' : 'device', error) })
  const leave = el('leave') as HTMLButtonElement
  let unreached = 0
  // A tab opened on the bare URL stays a volunteer: when its job ends, or before any job exists, it waits for the
  // next one. A tab opened for one job (?job=ID) works on that job only.
  for (;;) {
    // No socket.io reconnection: a dropped tab rejoins as a new worker (its shard went back to the pool meanwhile).
    const socket: WorkerSocket = io({ transports: ['websocket'], reconnection: false })
    tally.newSession()
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
      adapter,
      agent: navigator.userAgent,
      onStatus,
    })
    // the volunteer's throttle and pause carry over to every session the page makes
    controls.attach(worker)
    leave.onclick = () => {
      ctx.left = true
      worker.leave()
      leave.disabled = true
      controls.disable()
      render()
    }
    // For the end-to-end tests and the curious: the worker's state and model, and the controls, from the devtools console.
    Object.assign(window, {
      tabgrid: {
        worker,
        status: () => worker.status,
        readModel: () => worker.readModel(),
        pause: () => controls.pause(),
        resume: () => controls.resume(),
        setDuty: (d: number) => controls.setDuty(d),
      },
    })
    let code: string | undefined
    await worker.run().catch((e: Error & { code?: string }) => {
      code = e.code
      if (code !== 'ERR_UNKNOWN_JOB' && code !== 'ERR_JOB_CLOSED') console.error(e)
    })
    socket.disconnect()
    controls.detach()
    const end = afterSession({ code, reached: !!worker.status.workerId, done: worker.status.phase === 'done', left: ctx.left, tied: ctx.tied }, unreached)
    unreached = end.unreached
    const next = end.next
    if (next.action === 'stop') break
    // between sessions the page waits for a job: the next session's connecting is more of the same wait
    ctx.waitingForJob = next.why === 'no-job' || next.why === 'next-job'
    await new Promise((r) => setTimeout(r, next.waitMs))
  }
  leave.disabled = true
  controls.disable()
}

void main()
