// The training loop of a worker: lease a shard, then per clock wait for the SSP bound, step, send the update.
import { clipParts } from '../../model/clip.ts'
import type { ModelPlan } from '../../model/plan.ts'
import type { Path } from '../../model/update.ts'
import { TabgridError } from '../../protocol/errors.ts'
import { encodeFrame } from '../../protocol/frames.ts'
import { endedUnder, isEnded, type JobInfo } from '../../protocol/job.ts'
import type { ClockView, LeaseGrant } from '../../protocol/messages.ts'
import { decodeShard } from '../../protocol/shard.ts'
import type { Engine } from '../gpu/engine.ts'
import type { CoordinatorLink } from '../transport/coordinator.ts'
import type { PeerMesh } from '../transport/peer-mesh.ts'
import type { Inbox } from './inbox.ts'
import { RowPacer } from './pace.ts'
import type { RateMeter, WorkerStatus } from './status.ts'
import { rest, restAfter } from './throttle.ts'

/**
 * Ask the coordinator for updates a peer should have sent after waiting this long for them. A safety net: every
 * accepted update reaches a worker as a relay or as a confirm (a frame that then never comes is reported at once).
 */
export const RESEND_AFTER_MS = 5000
/** Sooner when a later update from that peer already arrived: the missing one was lost on the way. */
export const GAP_RESEND_AFTER_MS = 200
/** A worker with no lease (or a job not running) asks again after this long. */
export const IDLE_RETRY_MS = 500
/**
 * One update in this many asks the coordinator for an answer, and the loop waits for the one before it: a worker
 * never has more than twice this many updates the coordinator has not taken. The others go without an ack (a refusal
 * comes back as a `rejected` event and ends the session): at thousands of workers the acks were a quarter of the
 * coordinator's packets.
 */
export const ACK_EVERY = 8
const SHARD_CACHE = 64

/** What the loop needs of its session. */
export interface LoopHost {
  readonly link: CoordinatorLink
  readonly mesh: PeerMesh
  readonly engine: Engine
  readonly inbox: Inbox
  readonly status: WorkerStatus
  readonly job: JobInfo
  readonly plan: ModelPlan
  readonly rate: RateMeter
  /** The newest clock view from the coordinator. */
  view(): ClockView
  /** The path of each tensor for the next step. */
  paths(): Path[]
  /** True once after the coordinator said this worker went on probation (it held the min clock too long). */
  takeProbation(): boolean
  /** False once the volunteer pressed Leave; throws the session's fatal error (lost coordinator, GPU, eviction). */
  running(): boolean
  /** Resolves on the next state change (an update applied, a clock view, a job event) or after `ms`. */
  changed(ms: number): Promise<void>
  setPhase(p: WorkerStatus['phase']): void
  notify(): void
  fetchShard(url: string): Promise<ArrayBuffer>
}

export class Loop {
  private readonly shards = new Map<number, { n: number; x: Float32Array; y: Uint8Array }>()
  /** The clock of this worker's last accepted update that carried sf parts: the next such update names it. */
  private chain = -1
  /** The answers the last shard's updates asked for: awaited once the next lease came, or among the next shard's. */
  private pending: Promise<unknown> = Promise.resolve()
  /** The next lease, asked for (with its shard's fetch) while the current shard trains. */
  private ahead: Promise<LeaseGrant | null> | null = null
  /** Updates sent without an ack since the last one that asked for it. */
  private unacked = 0
  /** When this worker's last update went out (or its lease came): the coordinator's hold runs from about then. */
  private lastSent = -Infinity
  private readonly pacer: RowPacer

  constructor(private readonly h: LoopHost) {
    this.pacer = new RowPacer(h.job.hyper)
  }

  /** Leases and processes shards until the job is done or the session stops. */
  async train(): Promise<void> {
    const { h } = this
    while (h.running()) {
      if (isEnded(h.job.state)) return
      if (h.status.paused) {
        await this.pausedHere()
        continue
      }
      if (h.job.state === 'pending' || h.job.state === 'paused') {
        h.setPhase('waiting')
        await h.changed(IDLE_RETRY_MS)
        continue
      }
      // the next shard, granted and fetched while the last one trained: the worker goes on from its own clock
      const ahead = this.ahead
      this.ahead = null
      const next = ahead && (await ahead)
      if (next) {
        await this.process(next, true)
        continue
      }
      const r = await h.link.request('lease', { type: 'lease' })
      // the last shard's answers came before this one (socket.io keeps order): a refusal among them throws here
      await this.closedOk(this.pending)
      if (r.done) return
      if (!r.lease) {
        h.setPhase('idle')
        await h.changed(IDLE_RETRY_MS)
        continue
      }
      await this.process(r.lease, false)
    }
  }

  /**
   * The volunteer paused this tab: the lease granted ahead is dropped, the coordinator takes its shards back and stops
   * counting it toward the min clock (`pause`), and the tab waits, still applying what comes in, until Resume; then it
   * says so and leases again, at the job's min clock.
   */
  private async pausedHere(): Promise<void> {
    const { h } = this
    this.ahead = null
    h.setPhase('paused')
    await h.link.request('pause', { type: 'pause', paused: true })
    while (h.running() && h.status.paused && !isEnded(h.job.state)) await h.changed(IDLE_RETRY_MS)
    if (h.running() && !isEnded(h.job.state)) await h.link.request('pause', { type: 'pause', paused: false })
  }

  /**
   * Waits at a clock boundary while the operator has the job paused (its lease stays this worker's and its stall
   * timer stands still); false when the tab is to stop working on this shard: the job ended, or the volunteer paused.
   */
  private async mayGoOn(): Promise<boolean> {
    const { h } = this
    while (h.running() && h.job.state === 'paused' && !h.status.paused) {
      h.setPhase('waiting')
      await h.changed(IDLE_RETRY_MS)
    }
    return h.running() && !h.status.paused && !isEnded(h.job.state)
  }

  /**
   * Awaits answers to updates; a refusal because the job ended meanwhile (an operator's cancel while they were on
   * their way) is the end of the work, not an error.
   */
  private async closedOk(p: Promise<unknown>): Promise<void> {
    await p.catch((e: unknown) => {
      if (!endedUnder((e as TabgridError).code, this.h.job.state)) throw e
    })
  }

  /** The answers a shard's updates asked for, awaited at the next boundary (a session that stops never awaits them). */
  private awaitLater(acks: Array<Promise<unknown>>): void {
    this.pending = this.closedOk(Promise.all(acks))
    // its refusal (or the timeout of a socket that closed under it) is then no one's to handle
    this.pending.catch(() => undefined)
  }

  /**
   * Asks for the lease after `current` and fetches its shard, while `current` trains; null if none was granted (the
   * pool is nearly empty: the loop asks again at the boundary) or the request failed.
   */
  private async leaseAhead(current: LeaseGrant): Promise<LeaseGrant | null> {
    const r = await this.h.link.request('lease', { type: 'lease', ahead: current.id }).catch((e: TabgridError) => {
      console.warn(`no lease ahead of ${current.id}: ${e.message}`)
      return null
    })
    if (!r?.lease) return null
    // a failed fetch is tried again when the lease comes up
    await this.shard(r.lease).catch((e: Error) => console.warn(`shard ${r.lease!.shard} not fetched ahead: ${e.message}`))
    return r.lease
  }

  /** Trains on a leased shard; `continuing`: a lease granted ahead, taken up at the clock this worker is at. */
  private async process(lease: LeaseGrant, continuing: boolean): Promise<void> {
    const { h } = this
    const { engine, link, status } = h
    // the coordinator's hold runs from the grant, a half round trip before this (a lease ahead does not restart it)
    if (!continuing) this.lastSent = Math.max(this.lastSent, performance.now())
    // B: every row weighs lr / B; each update's rows follow this worker's speed (RowPacer)
    const { batch } = h.job.hyper
    const shard = await this.shard(lease)
    this.ahead = this.leaseAhead(lease)
    engine.loadShard(shard.x, shard.y, shard.n)
    if (status.firstLoss === null) {
      // The model this tab starts from, measured on its first rows: a joiner's is the job's current model.
      const n = Math.min(shard.n, batch)
      const e = await engine.evaluate(shard.x.subarray(0, n * h.plan.inputSize), shard.y.subarray(0, n), n)
      status.firstLoss = e.loss / n
    }
    status.shard = lease.shard
    status.epoch = lease.epoch
    status.lr = lease.lr
    let clock = continuing ? status.clock : lease.clock
    // the last shard's answers when this one follows at once (a lease ahead): awaited among this shard's
    const acks: Array<Promise<unknown>> = [this.pending]
    const time = status.time
    // a clock runs from the end of the one before (or the shard's start) to the end of its send
    let clockStart = performance.now()
    let applyAtStart = time.applyMs
    for (let row0 = 0, rows = 0; row0 < shard.n; row0 += rows) {
      const applyBefore = time.applyMs
      const waitStart = performance.now()
      await this.gate(clock)
      // peers' updates applied meanwhile count as applying, not waiting
      const waited = performance.now() - waitStart - (time.applyMs - applyBefore)
      // the gate lets go when the job pauses or ends, or the volunteer pauses: an operator's pause is waited out here
      if (!(await this.mayGoOn())) {
        // the shard is left unfinished: the coordinator hands it out again (a volunteer's pause) or the job is over
        this.awaitLater(acks)
        return
      }
      h.setPhase('training')
      // the job's pace from the newest clock view (a long lease's is old)
      const pace = h.view().pace ?? lease
      rows = Math.min(this.pacer.rows(pace.clockMs), shard.n - row0)
      const view = h.inbox.view()
      const engineStart = performance.now()
      const applyAtEngine = time.applyMs
      // every row weighs lr / B: an update of more rows (a faster device) is a bigger step
      const step = await engine.step(row0, rows, -lease.lr / batch, h.paths())
      if (!h.running()) return
      // gradient clipping to the job's bounds; the step applied the whole update, so the excess is taken back
      const { parts, excess } = clipParts(engine.plan.tensors, step.parts, rows, (lease.lr * rows) / batch, h.job.bounds)
      if (excess.length) engine.apply(excess, rows)
      const sendStart = performance.now()
      const engineMs = sendStart - engineStart - (time.applyMs - applyAtEngine)
      status.clipped += excess.length
      const sf = parts.filter((p) => p.path === 'sf')
      const ps = parts.filter((p) => p.path === 'ps')
      // The coordinator may count a first update at a later clock (a joiner's, or a probationer's, past the min:
      // SspTable), and then relays it to every peer with that clock (the direct copy, with the old one, gets
      // dropped). The next clock waits for that answer. A worker that went quiet for half the hold (a paused tab)
      // may have been put on probation without hearing it yet: it waits too.
      const probation = h.takeProbation()
      const quiet = pace.holdMs > 0 && sendStart - this.lastSent > pace.holdMs / 2
      const first = status.lastUpdateClock === -1 || probation || quiet
      this.lastSent = sendStart
      if (!first) h.inbox.own(clock, ps)
      // peers chain the updates that carry factors (`prev` names the one before); the others are the server's alone
      const prev = this.chain
      const p2pTo = sf.length ? h.mesh.broadcast(encodeFrame({ clock, prev, rows, parts: sf }), this.fanout()) : []
      // Not awaited (but the first): socket.io keeps order, so the next clock need not wait a round trip to the
      // coordinator. A refusal stops the loop: a `rejected` event ends the session, a refused ack throws when awaited.
      const frame = encodeFrame({ clock, prev, rows, parts })
      const msg = { type: 'update' as const, loss: step.loss, correct: step.correct, p2pTo, frame, view }
      if (first) {
        const ack = link.request('update', msg)
        h.inbox.holdServer()
        let at: number | null = null
        try {
          at = (await ack).clock
        } catch (e) {
          if (endedUnder((e as TabgridError).code, h.job.state)) return
          throw e
        } finally {
          h.inbox.releaseServer(at, ps)
        }
        clock = at
      } else if (++this.unacked < ACK_EVERY) {
        link.send('update', msg)
      } else {
        this.unacked = 0
        const ack = link.request('update', msg)
        ack.catch(() => undefined)
        acks.push(ack)
        if (acks.length > 1) await this.closedOk(acks.shift()!)
      }
      // The throttle: the tab rests so that it computes `duty` of the time. The rest counts as engine time (a tab at
      // 50 % is a device half as fast), so the pacer and the coordinator's clock length see the tab as it is.
      const sent = performance.now()
      const rested = await rest(restAfter(Math.max(0, engineMs), status.duty), (ms) => h.changed(ms), () => status.paused)
      const busy = Math.max(0, engineMs) + rested
      const end = performance.now()
      time.clocks++
      time.rows += rows
      time.waitMs += Math.max(0, waited)
      time.engineMs += busy
      time.sendMs += sent - sendStart
      // the rest: the clock's wall time less the four above (applies since the last clock ended included)
      const applied = time.applyMs - applyAtStart
      const others = Math.max(0, end - clockStart - Math.max(0, waited) - busy)
      time.otherMs += Math.max(0, others - (sent - sendStart) - applied)
      this.pacer.observe(rows, busy, others)
      clockStart = end
      applyAtStart = time.applyMs
      status.lastLoss = step.loss / rows
      status.samples += rows
      h.rate.add(rows)
      status.lastUpdateClock = clock
      if (sf.length) this.chain = clock
      status.clock = ++clock
      h.notify()
    }
    // Not awaited, nor the answers before it: socket.io keeps order, so the coordinator takes every update of the
    // shard, then shard-done, then the next shard's updates (or the next lease request); a refusal ends the session
    // (`rejected`, or a refused ack). With the next lease granted ahead and its shard fetched, the boundary costs
    // nothing; without (at an epoch's end), one round trip and the fetch.
    link.send('shard-done', { type: 'shard-done', lease: lease.id })
    this.awaitLater(acks)
  }

  /** Waits until the SSP bound and the read guarantee allow clock c; asks for resends of what is overdue. */
  private async gate(c: number): Promise<void> {
    const { h } = this
    const clocks = h.inbox.clocks!
    const s = h.job.hyper.staleness
    let asked = performance.now()
    for (;;) {
      // the job ended or paused, or the volunteer paused: the caller decides what next
      if (!h.running() || h.status.paused || h.job.state !== 'running') return
      const view = h.view()
      // The server's aggregates up to view.min came before that view: slowestOk covers the ps read guarantee too.
      const slowestOk = view.min >= c - s
      const missing = slowestOk ? clocks.missing(view, c, s) : []
      if (slowestOk && missing.length === 0) break
      h.setPhase(slowestOk ? 'waiting-updates' : 'waiting-slowest')
      // a gap (a later update of the peer came, an earlier one did not) is asked for once it has lasted GAP_RESEND_AFTER_MS:
      // woken by the later one, a gate that had waited long would otherwise ask for a frame a few ms behind it
      const gap = missing.reduce((a, m) => Math.max(a, h.inbox.gapAge(m.peer)), 0)
      const overdue = gap > 0 ? GAP_RESEND_AFTER_MS : RESEND_AFTER_MS
      if (missing.length && performance.now() - asked > overdue && (gap === 0 || gap > GAP_RESEND_AFTER_MS)) {
        asked = performance.now()
        await Promise.all(missing.map((m) => this.resend(m.peer, m.after)))
      }
      await h.changed(overdue)
    }
  }

  /** After the job ends, applies every update the coordinator holds, so this replica matches its replica. */
  async catchUp(): Promise<void> {
    const { h } = this
    const clocks = h.inbox.clocks
    if (!clocks) return
    const deadline = performance.now() + 10_000
    let asked = performance.now()
    for (;;) {
      if (!h.running()) return
      const behind = clocks.behind(h.view())
      if (!behind.length || performance.now() > deadline) return
      if (performance.now() - asked > RESEND_AFTER_MS) {
        asked = performance.now()
        await Promise.all(behind.map((m) => this.resend(m.peer, m.after)))
      }
      await h.changed(200)
    }
  }

  async resend(peer: string, after: number): Promise<void> {
    this.h.status.resends++
    await this.h.link.request('resend', { type: 'resend', from: peer, after }).catch((e: TabgridError) => console.warn(e.message))
  }

  /** Partial broadcast: at most `fanout` peers get the update directly; the coordinator relays it to the rest. */
  private fanout(): string[] | undefined {
    const q = this.h.job.hyper.fanout
    const open = this.h.mesh.openPeers()
    if (q === undefined || open.length <= q) return undefined
    for (let i = open.length - 1; i > 0; i--) {
      const j = Math.floor(Math.random() * (i + 1))
      ;[open[i], open[j]] = [open[j], open[i]]
    }
    return open.slice(0, q)
  }

  private async shard(lease: LeaseGrant) {
    const cached = this.shards.get(lease.shard)
    if (cached) return cached
    const buf = await this.h.fetchShard(lease.url)
    const s = decodeShard(buf, this.h.plan.inputSize, this.h.plan.classes)
    if (s.n !== lease.n) throw new TabgridError('ERR_BAD_SHAPE', `shard ${lease.shard} has ${s.n} rows, lease says ${lease.n}`)
    if (this.shards.size >= SHARD_CACHE) this.shards.delete(this.shards.keys().next().value!)
    this.shards.set(lease.shard, s)
    return s
  }
}
