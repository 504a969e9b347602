// Issue 6, "Done when": the coordinator's memory after 3,000 join/leave cycles grows by less than 5 MB. A real
// coordinator runs a job that two honest workers keep training while short-lived sockets, each from its own address,
// come and go at every stage of a worker's life: no hello, hello only, a refused message, ready (after a signal, a
// link report and stats), a lease, an accepted update, a quarantine. The heap is read after a warm-up and after the
// cycles, each time once the min clock has passed what the churners left in the log, with the honest workers paused
// and a full GC. The figures, and the size of every per-worker structure, are printed.
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { pino } from 'pino'
import type { Socket } from 'socket.io-client'
import { afterAll, describe, expect, it } from 'vitest'
import type { JobCore } from '../../coordinator/core/job.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { COMM_HISTORY_MAX } from '../../coordinator/core/comm.ts'
import { LOG_MARGIN_CLOCKS } from '../../coordinator/core/update-log.ts'
import { MAX_DEPARTED } from '../../protocol/limits.ts'
import { encodeFrame } from '../../protocol/frames.ts'
import { mulberry32 } from '../helpers/random.ts'
import { ask, connect, honestUpdate, HonestWorker, sleep, type Reply } from '../helpers/socket-worker.ts'
import { randomParts } from '../helpers/tiny-data.ts'

// a full collection before each reading (node's --expose-gc, turned on from here so the file needs no flags)
setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

const CYCLES = 3000
const WARMUP = 300
/** Churning sockets open at a time. */
const PARALLEL = 6
const BATCH = 4

async function heapAfterGc(): Promise<number> {
  for (let i = 0; i < 4; i++) {
    gc()
    await sleep(50)
  }
  return process.memoryUsage().heapUsed
}

const closed = (s: Socket) => new Promise<void>((r) => (s.connected ? s.once('disconnect', () => r()) : r()))

/** Where a churning socket leaves, by cycle number: every stage of a worker's life, and a quarantine. */
const STAGES = ['connect', 'hello', 'refused', 'ready', 'lease', 'update', 'quarantined'] as const

async function cycle(srv: RunningServer, job: JobCore, peers: readonly string[], n: number, codes: Map<string, number>): Promise<void> {
  const stage = STAGES[n % STAGES.length]
  // every churner from its own address: what the edge keeps per address must go when the socket does
  const s = await connect(srv.url, `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`)
  const gone = closed(s)
  const count = (r: Reply) => {
    const c = r.ok ? 'ok' : r.code!
    codes.set(c, (codes.get(c) ?? 0) + 1)
    return r
  }
  try {
    if (stage === 'connect') return
    const h = count(await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: job.id, agent: `churn ${n}` }))
    if (!h.ok || stage === 'hello') return
    const id = h.workerId as string
    if (stage === 'refused') {
      // before ready: refused with a code, counted and logged (throttled) under this worker's id
      count(await ask(s, 'lease', { type: 'lease' }))
      return
    }
    const peer = peers[n % peers.length]
    count(await ask(s, 'signal', { type: 'signal', to: peer, data: { type: 'offer', sdp: `v=0 churn ${n}` } }))
    count(await ask(s, 'link', { type: 'link', peer, state: 'relay' }))
    count(await ask(s, 'ready', { type: 'ready' }))
    count(await ask(s, 'stats', { type: 'stats', samplesPerSecond: n, bytes: { p2pSent: n, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } }))
    if (stage === 'ready') return
    const l = count(await ask(s, 'lease', { type: 'lease' })).lease as { id: string } | null
    if (stage === 'lease' || !l) return
    const clock = job.ssp.clockOf(id)!
    if (!job.ssp.mayStart(clock)) return
    if (stage === 'update') {
      if (count(await ask(s, 'update', honestUpdate(job, id, BATCH))).ok) codes.set('accepted', (codes.get('accepted') ?? 0) + 1)
      return
    }
    // random parts are no SGD step: refused, quarantined, evicted (the edge remembers its address)
    const frame = encodeFrame({ clock, prev: job.ssp.chainOf(id), rows: BATCH, parts: randomParts(job.plan, job.comm.paths, BATCH, mulberry32(n)) })
    const told = new Promise<Reply>((r) => {
      s.once('evicted', r)
      setTimeout(() => r({ ok: false, code: 'not evicted' }), 5000)
    })
    s.emit('update', { type: 'update', loss: 1, correct: 0, p2pTo: [], frame, view: { vc: {}, psUpTo: 0 } })
    count(await told)
  } finally {
    s.disconnect()
    await gone
  }
}

/**
 * What the coordinator keeps per worker, socket or address, for the report (private fields read by name; -1 where a
 * field is not there any more). The job's history of departed workers is in the second half.
 */
function sizes(srv: RunningServer, job: JobCore): Record<string, number> {
  const field = (o: unknown, k: string) => (o as Record<string, unknown> | undefined)?.[k] as { size?: number; length?: number; get?(k: string): unknown } | undefined
  const n = (x: { size?: number; length?: number } | undefined) => x?.size ?? x?.length ?? -1
  return {
    members: job.members.size,
    outboxSockets: srv.outbox.sockets.size,
    sspEntries: Object.keys(job.ssp.clocks()).length,
    logSenders: job.log.senders,
    replicaSenders: Object.keys(job.replica.snapshot().vc).length,
    verifierOwnPs: n(field(job.verifier, 'ownPs')),
    verifierSeen: n(field(job.verifier, 'seen')),
    verified: job.verifier.checked,
    unverified: n(field(job.unverified, 'byWorker')),
    claims: n(field(job.claims, 'bySender')),
    flagged: job.claims.flagged.size,
    addressSockets: n(field(srv.edge.sockets, 'counts')),
    edgeLogKeys: n(field(srv.edge, 'lines')),
    addressRecords: n(field(srv.edge.policy, 'jobs')?.get?.(job.id) as { size?: number } | undefined),
    curvePoints: job.curve.points.length,
    // the job's history: the last MAX_DEPARTED departed, and every member
    departed: job.departed.size,
    enginesByWorker: job.enginesByWorker.size,
    clocksByWorker: job.clocksByWorker.size,
    returned: job.returned.length,
    commHistory: job.comm.history.length,
  }
}

let srv: RunningServer | undefined
const honest: HonestWorker[] = []
afterAll(async () => {
  for (const h of honest.splice(0)) await h.stop().catch(() => {})
  await srv?.close()
})

describe('join/leave churn', () => {
  it(`grows the coordinator's heap by less than 5 MB over ${CYCLES} cycles, and leaves nothing of the departed behind`, { timeout: 180_000 }, async () => {
    srv = await startServer({ port: 0, log: pino({ level: 'silent' }), trustProxy: true })
    const job = await srv.store.create({
      data: 'builtin',
      model: 'mlr',
      // BSP (honest steps state their view exactly); epochs the cycles never reach; at 2 workers and B = 4 the kernel goes sf, at 3 ps, so every joiner that gets ready flips a path and back
      hyper: { minWorkers: 2, batch: BATCH, shardSize: 20, epochs: 100, staleness: 0, lr: 0.05 } as never,
    })
    honest.push(new HonestWorker(srv.url, job, '192.168.0.1', BATCH), new HonestWorker(srv.url, job, '192.168.0.2', BATCH))
    for (const h of honest) await h.start()
    const peers = honest.map((h) => h.id)
    const codes = new Map<string, number>()
    const churn = async (from: number, to: number) => {
      let next = from
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          while (next < to) await cycle(srv!, job, peers, next++, codes)
        }),
      )
    }
    /** Lets the honest workers move the min clock past everything the churners left in the log, then reads the heap. */
    const measure = async () => {
      const past = job.ssp.min + LOG_MARGIN_CLOCKS + 2
      const end = Date.now() + 30_000
      while (job.ssp.min < past && Date.now() < end) await sleep(20)
      await Promise.all(honest.map((h) => h.pause()))
      const heap = await heapAfterGc()
      const at = { heap, minClock: job.ssp.min, updates: honest.reduce((a, h) => a + h.updates, 0), ...sizes(srv!, job) }
      for (const h of honest) h.resume()
      return at
    }
    const t0 = performance.now()
    await churn(0, WARMUP)
    const before = await measure()
    const t1 = performance.now()
    await churn(WARMUP, WARMUP + CYCLES)
    const t2 = performance.now()
    const after = await measure()
    // nothing of a departed worker or its socket is left where the live ones are kept
    expect(job.members.size).toBe(2)
    expect(srv.outbox.sockets.size).toBe(2)
    expect(Object.keys(job.ssp.clocks()).sort()).toEqual([...peers].sort())
    expect(job.log.senders).toBe(2)
    expect(Object.keys(job.replica.snapshot().vc).sort()).toEqual([...peers].sort())
    for (let n = WARMUP + CYCLES - 10; n < WARMUP + CYCLES; n++) expect(srv.edge.sockets.of(`10.0.${(n >> 8) & 255}.${n & 255}`)).toBe(0)
    for (const h of honest.splice(0)) await h.stop()
    const growthMB = (after.heap - before.heap) / 2 ** 20
    console.log(
      JSON.stringify({
        growthMB: +growthMB.toFixed(2),
        cyclesPerSecond: Math.round((CYCLES * 1000) / (t2 - t1)),
        warmupMs: Math.round(t1 - t0),
        codes: Object.fromEntries(codes),
        before,
        after,
      }),
    )
    // the stages were reached: refusals, accepted updates (each a newcomer's, so re-computed), quarantines
    for (const c of ['ERR_NOT_JOINED', 'accepted', 'ERR_QUARANTINED']) expect(codes.get(c), c).toBeGreaterThan(CYCLES / 10)
    expect(job.state).toBe('running')
    expect(after.updates - before.updates).toBeGreaterThan(LOG_MARGIN_CLOCKS)
    expect(growthMB).toBeLessThan(5)
    // the history of the departed stops at MAX_DEPARTED, the path decisions at COMM_HISTORY_MAX
    const history = after as Record<string, number>
    for (const k of ['departed', 'enginesByWorker', 'clocksByWorker', 'returned']) expect(history[k], k).toBeLessThanOrEqual(MAX_DEPARTED + 2)
    expect(history.departed).toBe(MAX_DEPARTED)
    expect(history.commHistory).toBeLessThanOrEqual(COMM_HISTORY_MAX)
  })
})
