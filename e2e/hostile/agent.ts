// The hostile page's script, bundled at test time and run inside Chromium: it joins a job over socket.io like a
// volunteer, computes honest steps with the CPU reference engine on the shards it leases, and sends them scaled.
import { io } from 'socket.io-client'
import { createCpuEngine } from '../../client/gpu/cpu-engine.ts'
import { CoordinatorLink, type WorkerSocket } from '../../client/transport/coordinator.ts'
import { arenaFromBytes } from '../../model/params.ts'
import { planModel } from '../../model/plan.ts'
import { scaleParts } from '../../model/update.ts'
import { asBytes } from '../../protocol/bytes.ts'
import type { Rejection } from '../../protocol/errors.ts'
import { encodeFrame } from '../../protocol/frames.ts'
import type { CommView, JobState } from '../../protocol/job.ts'
import type { ClockView, LeaseGrant } from '../../protocol/messages.ts'
import { decodeShard } from '../../protocol/shard.ts'

export interface HostileOptions {
  jobId: string
  /** Every part's change is multiplied by this before it is sent: 1000 (scaled), −1 (sign-flipped). */
  factor: number
}

/** What the hostile page saw, read by the spec through `tabgridHostile.report()`. */
export interface HostileReport {
  phase: 'connecting' | 'attacking' | 'evicted' | 'ended' | 'error'
  workerId: string
  /** Updates sent, and those the coordinator acknowledged as accepted. */
  sent: number
  accepted: number
  /** Codes of refused requests and `rejected` events, by count. */
  refused: Record<string, number>
  evicted: Rejection | null
  /** The peers named in p2pTo of the last update sent. */
  p2pTo: string[]
  error: string | null
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

const report: HostileReport = { phase: 'connecting', workerId: '', sent: 0, accepted: 0, refused: {}, evicted: null, p2pTo: [], error: null }

function refused(code: string): void {
  report.refused[code] = (report.refused[code] ?? 0) + 1
}

/** Joins (hello, ready, no data channels), then leases shards and sends every step ×factor until it is stopped. */
async function attack(o: HostileOptions): Promise<void> {
  const socket: WorkerSocket = io({ transports: ['websocket'], reconnection: false })
  const link = new CoordinatorLink(socket)
  const peers = new Set<string>()
  let view: ClockView = { min: 0, last: {} }
  let state: JobState = 'pending'
  // the newest path decision: which tensors go as factors (sf) and which as dense deltas (ps)
  const comm: { now: CommView | null; set(p: CommView): void } = {
    now: null,
    set(p) {
      if (!this.now || p.version > this.now.version) this.now = p
    },
  }
  socket.on('evicted', (r) => {
    report.evicted = r
    report.phase = 'evicted'
  })
  socket.on('rejected', (r) => refused(r.code))
  link.on('peer-joined', ({ worker }) => void peers.add(worker))
  link.on('peer-left', ({ worker }) => void peers.delete(worker))
  link.on('clock', (v) => void (v.min >= view.min && (view = v)))
  link.on('aggregate', (a) => void (a.view && a.view.min >= view.min && (view = a.view)))
  link.on('paths', (p) => comm.set(p))
  link.on('job', (j) => void (state = j.state))
  const alive = () => socket.connected && report.evicted === null
  try {
    // it claims a GPU, as a real tab on a real card would
    const hello = await link.request('hello', { type: 'hello', jobId: o.jobId, engine: 'webgpu', agent: navigator.userAgent })
    if (hello.app !== 'sgd') throw new Error(`job ${o.jobId} is a ${hello.app} job; the hostile agent plays SGD`)
    report.workerId = hello.workerId
    for (const p of hello.peers) peers.add(p)
    state = hello.job.state
    comm.set(hello.paths)
    const plan = planModel(hello.job.model, hello.job.dataset)
    const engine = createCpuEngine(plan)
    const snap = await link.request('ready', { type: 'ready' })
    engine.setModel(arenaFromBytes(plan, asBytes(snap.model)))
    if (snap.view.min >= view.min) view = snap.view
    // the view it states never moves: it applies nobody's updates, which only a re-computation would notice
    const stated = { vc: snap.vc, psUpTo: snap.psFrom }
    const { batch, staleness } = hello.job.hyper
    report.phase = 'attacking'
    let prev = -1
    while (alive()) {
      if (state !== 'running') {
        if (state === 'done' || state === 'failed') break
        await sleep(200)
        continue
      }
      const r = await link.request('lease', { type: 'lease' })
      if (r.done) break
      if (!r.lease) {
        await sleep(200)
        continue
      }
      const lease: LeaseGrant = r.lease
      const res = await fetch(lease.url)
      if (!res.ok) throw new Error(`shard ${lease.url}: HTTP ${res.status}`)
      const shard = decodeShard(await res.arrayBuffer(), plan.inputSize, plan.classes)
      engine.loadShard(shard.x, shard.y, shard.n)
      let clock = lease.clock
      for (let row0 = 0; row0 < shard.n && alive(); row0 += batch) {
        // the SSP bound, or the update is refused as ERR_CLOCK before its numbers are looked at
        while (alive() && view.min < clock - staleness) await sleep(20)
        const rows = Math.min(batch, shard.n - row0)
        const step = await engine.step(row0, rows, -lease.lr / rows, comm.now!.paths)
        const parts = scaleParts(plan.tensors, step.parts, rows, o.factor)
        report.p2pTo = [...peers]
        report.sent++
        try {
          const frame = encodeFrame({ clock, prev, rows, parts })
          await link.request('update', { type: 'update', loss: step.loss, correct: step.correct, p2pTo: report.p2pTo, frame, view: stated }, 5000)
          report.accepted++
        } catch (e) {
          refused((e as { code?: string }).code ?? 'ERR_INTERNAL')
          break
        }
        prev = clock++
      }
      if (!alive()) break
      await link.request('shard-done', { type: 'shard-done', lease: lease.id })
    }
    if (report.phase === 'attacking') report.phase = 'ended'
  } catch (e) {
    if (report.phase !== 'evicted') {
      report.phase = 'error'
      report.error = (e as Error).message
    }
  } finally {
    // let an eviction that is on its way arrive before the socket closes
    await sleep(200)
    socket.disconnect()
  }
}

Object.assign(globalThis, {
  tabgridHostile: {
    start: (o: HostileOptions) => void attack(o),
    report: (): HostileReport => structuredClone(report),
  },
})
