// The socket edge against a real coordinator: rate limits, packet bounds, the per-address cap, the ready deadline,
// bans after quarantines and lease back-off after stalls; every refusal coded, counted and logged.
import { spawn } from 'node:child_process'
import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import WebSocket from 'ws'
import type { JobCore } from '../../coordinator/core/job.ts'
import { startServer, type RunningServer, type ServerOptions } from '../../coordinator/server.ts'
import { reject } from '../../protocol/errors.ts'

type Reply = { ok: boolean; code?: string; reason?: string; [k: string]: unknown }

let srv: RunningServer | undefined
const sockets: Socket[] = []
afterEach(async () => {
  for (const s of sockets.splice(0)) s.disconnect()
  await srv?.close()
  srv = undefined
})

/** A server whose log lines land in `lines`. */
async function start(opts: ServerOptions = {}) {
  const lines: Array<Record<string, unknown>> = []
  const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as Record<string, unknown>) })
  srv = await startServer({ port: 0, log, ...opts })
  return { srv, lines }
}

function connect(s: RunningServer, from?: string): Promise<Socket> {
  const sock = io(s.url, { transports: ['websocket'], forceNew: true, reconnection: false, ...(from ? { extraHeaders: { 'x-forwarded-for': from } } : {}) })
  sockets.push(sock)
  return new Promise((resolve, fail) => {
    sock.once('connect', () => resolve(sock))
    sock.once('connect_error', fail)
  })
}

function ask(s: Socket, event: string, msg: unknown): Promise<Reply> {
  return s.timeout(5000).emitWithAck(event, msg)
}

const hello = (s: Socket, job: JobCore) => ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: job.id })
const closed = (s: Socket) => new Promise<string>((r) => (s.connected ? s.once('disconnect', (why) => r(why)) : r('already')))
const evicted = (s: Socket) => new Promise<{ code: string }>((r) => s.once('evicted', r))
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
async function until(pred: () => boolean, ms: number) {
  const end = Date.now() + ms
  while (!pred()) {
    if (Date.now() > end) throw new Error('timed out')
    await sleep(10)
  }
}

async function jobOn(s: RunningServer, hyper: Record<string, unknown> = {}) {
  return s.store.create({ data: 'builtin', model: 'mlp:16', trainLimit: 400, hyper: { minWorkers: 1, batch: 8, ...hyper } as never })
}

describe('per-socket rate limit', () => {
  // Known flake: about 1 run in 3 on a loaded 2-core machine this hangs (not found yet); retried, with a short timeout.
  it('refuses over the budget with ERR_RATE_LIMITED, leaves the job alone, logs a throttled line, closes a flooder', { retry: 2, timeout: 20_000 }, async () => {
    const { srv, lines } = await start({ rateLimit: { tokensPerSecond: 20, burst: 30, rejectionsToClose: 20 } })
    const job = await jobOn(srv)
    const s = await connect(srv)
    const r = await hello(s, job)
    expect(r.ok).toBe(true)
    const me = job.members.get(r.workerId as string)!
    const stats = (n: number) => ({ type: 'stats', samplesPerSecond: n, bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } })
    const replies = await Promise.all(Array.from({ length: 40 }, (_, i) => ask(s, 'stats', stats(i + 1))))
    const refused = replies.filter((x) => !x.ok)
    expect(refused.length).toBeGreaterThan(5)
    for (const x of refused) expect(x).toMatchObject({ ok: false, code: 'ERR_RATE_LIMITED' })
    // the refused ones never reached the job: the last stats it holds is the last one admitted
    const lastOk = replies.map((x, i) => (x.ok ? i + 1 : 0)).reduce((a, b) => Math.max(a, b))
    expect(me.samplesPerSecond).toBe(lastOk)
    const warn = lines.filter((l) => l.msg === 'message refused: over the rate limit')
    expect(warn.length).toBe(1) // one line per socket per 10 s
    expect(warn[0]).toMatchObject({ level: 40, worker: r.workerId, job: job.id, type: 'stats', code: 'ERR_RATE_LIMITED' })
    expect(warn[0].address).toMatch(/127\.0\.0\.1/)
    // keeps on: closed, told why
    const told = evicted(s)
    const gone = closed(s)
    // enough to pass the close threshold even if a slow machine let the bucket refill meanwhile
    for (let i = 0; i < 400; i++) s.emit('stats', stats(1))
    expect(await told).toMatchObject({ code: 'ERR_RATE_LIMITED' })
    await gone
    await sleep(50)
    expect(job.members.has(r.workerId as string)).toBe(false)
    expect(srv.store.edgeCounters(job.id)).toMatchObject({ floodClosed: 1 })
    expect(srv.store.edgeCounters(job.id).rateLimited).toBe(21) // all in one window: closed at the 21st
    expect(lines.some((l) => l.msg === 'connection closed: kept sending over the rate limit')).toBe(true)
  })

  it('at the defaults, a stats flood of 20,000 messages from another process is cut off while the API keeps answering', async () => {
    const { srv } = await start({})
    const job = await jobOn(srv)
    await (await fetch(`${srv.url}/api/jobs`)).json() // the first fetch of a process sets up its HTTP client
    // the flooder runs in its own process, as an attacker would: its sending costs the coordinator nothing
    const code = `import { io } from 'socket.io-client'
      const s = io(${JSON.stringify(srv.url)}, { transports: ['websocket'], reconnection: false })
      s.on('connect', async () => {
        await s.emitWithAck('hello', { type: 'hello', engine: 'cpu', jobId: ${JSON.stringify(job.id)} })
        const m = { type: 'stats', samplesPerSecond: 1, bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } }
        for (let i = 0; i < 20000; i++) s.emit('stats', m)
        console.log('sent')
      })
      s.on('evicted', (r) => console.log(r.code))
      s.on('disconnect', () => setTimeout(() => process.exit(0), 50))`
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', (d) => (out += String(d)))
    const exited = new Promise((r) => child.once('exit', r))
    await until(() => out.includes('sent'), 10_000)
    // the API's latency over the attack's first 2 s, as an operator polling it would see it
    const times: number[] = []
    let done = false
    const until2s = performance.now() + 2000
    const probe = (async () => {
      while (!done || performance.now() < until2s) {
        const t = performance.now()
        await (await fetch(`${srv.url}/api/jobs`)).json()
        times.push(performance.now() - t)
      }
    })()
    await exited
    done = true
    await probe
    times.sort((a, b) => a - b)
    expect(out).toContain('ERR_RATE_LIMITED')
    expect(times[Math.ceil(times.length * 0.99) - 1]).toBeLessThan(200)
    expect(srv.store.edgeCounters(job.id)).toMatchObject({ floodClosed: 1, rateLimited: 201 })
    expect(job.members.size).toBe(0)
  })
})

/** A raw engine.io websocket speaking socket.io by hand, to send what socket.io-client never would. */
async function rawSocket(s: RunningServer): Promise<{ ws: WebSocket; closed: Promise<number> }> {
  const ws = new WebSocket(`${s.url.replace('http', 'ws')}/socket.io/?EIO=4&transport=websocket`)
  const closedP = new Promise<number>((r) => ws.once('close', (code) => r(code)))
  const connected = new Promise<void>((r) => ws.on('message', (d) => String(d).startsWith('40') && r()))
  await new Promise((r) => ws.once('open', r))
  ws.send('40')
  await connected
  return { ws, closed: closedP }
}

describe('socket.io packet bounds', () => {
  it('closes a connection whose packet announces more attachments than an update has, before any is sent', async () => {
    const { srv, lines } = await start()
    const { ws, closed: gone } = await rawSocket(srv)
    ws.send('452-["update",{"a":{"_placeholder":true,"num":0},"b":{"_placeholder":true,"num":1}}]')
    const t0 = performance.now()
    await gone
    expect(performance.now() - t0).toBeLessThan(1000)
    expect(lines.some((l) => l.msg === 'connection closed: bad packet' && /attachments/.test(String(l.reason)))).toBe(true)
    expect(srv.store.edgeTotals().badPackets).toBe(1)
    expect((await fetch(`${srv.url}/api/health`)).ok).toBe(true)
  })

  it('closes one with an oversized text packet, and one whose attachment is over the update bound', async () => {
    const { srv } = await start()
    const a = await rawSocket(srv)
    a.ws.send(`42["stats","${'x'.repeat(200_000)}"]`)
    await a.closed
    expect(srv.store.edgeTotals().badPackets).toBe(1)
    await srv.close()
    const small = (await start({ maxUpdateBytes: 64 * 1024 })).srv
    const b = await rawSocket(small)
    b.ws.send('451-["update",{"frame":{"_placeholder":true,"num":0}}]')
    b.ws.send(Buffer.alloc(64 * 1024 + 1))
    await b.closed
    expect(small.store.edgeTotals().badPackets).toBe(1)
    // over the message bound itself (update bound + 64 KiB), ws refuses the frame before it is whole
    const c = await rawSocket(small)
    c.ws.send(Buffer.alloc(200 * 1024))
    expect(await c.closed).toBe(1009)
  })

  it('refuses a job whose updates would not fit the server’s update bound', async () => {
    const { srv } = await start({ maxUpdateBytes: 64 * 1024 })
    await expect(srv.store.create({ data: 'builtin', model: 'mlp:64', trainLimit: 400 })).rejects.toThrow(/over the 0.06 MiB limit/)
  })
})

describe('per-address cap', () => {
  it('answers the hello over the cap with ERR_ADDRESS_LIMIT and closes it; other addresses and freed places are fine', async () => {
    const { srv, lines } = await start({ trustProxy: true, maxPerAddress: 2 })
    const job = await jobOn(srv)
    const [a, b, c] = [await connect(srv, '10.0.0.1'), await connect(srv, '10.0.0.1'), await connect(srv, '10.0.0.1')]
    expect((await hello(a, job)).ok).toBe(true)
    expect((await hello(b, job)).ok).toBe(true)
    const gone = closed(c)
    expect(await hello(c, job)).toMatchObject({ ok: false, code: 'ERR_ADDRESS_LIMIT' })
    await gone
    expect((await hello(await connect(srv, '10.0.0.2'), job)).ok).toBe(true)
    const left = closed(a)
    a.disconnect()
    await left
    await sleep(50)
    expect((await hello(await connect(srv, '10.0.0.1'), job)).ok).toBe(true)
    expect(srv.store.edgeCounters(job.id).addressLimited).toBe(1)
    expect(lines.find((l) => l.code === 'ERR_ADDRESS_LIMIT')).toMatchObject({ level: 40, address: '10.0.0.1', job: job.id })
  })

  it('leaves loopback out unless told otherwise', async () => {
    const { srv } = await start({ maxPerAddress: 2 })
    const job = await jobOn(srv)
    for (let i = 0; i < 4; i++) expect((await hello(await connect(srv), job)).ok).toBe(true)
    await srv.close()
    const strict = (await start({ maxPerAddress: 2, exemptLoopback: false })).srv
    const job2 = await jobOn(strict)
    const replies = []
    for (let i = 0; i < 3; i++) replies.push(await hello(await connect(strict), job2))
    expect(replies.map((r) => r.code ?? 'ok')).toEqual(['ok', 'ok', 'ERR_ADDRESS_LIMIT'])
  })
})

describe('the hello → ready deadline', () => {
  it('evicts a worker that said hello but not ready in time; one that was ready stays', async () => {
    const { srv } = await start({ readyTimeoutMs: 200 })
    const job = await jobOn(srv, { linkTimeoutMs: 100 }) // deadline max(200, 3 × 100) = 300 ms
    const idle = await connect(srv)
    const told = evicted(idle)
    const gone = closed(idle)
    const r = await hello(idle, job)
    const busy = await connect(srv)
    const rb = await hello(busy, job)
    expect((await ask(busy, 'ready', { type: 'ready' })).ok).toBe(true)
    expect(await told).toMatchObject({ code: 'ERR_READY_TIMEOUT' })
    await gone
    await sleep(50)
    expect(job.members.has(r.workerId as string)).toBe(false)
    expect(job.members.has(rb.workerId as string)).toBe(true)
    await sleep(300)
    expect(busy.connected).toBe(true)
    expect(srv.store.edgeCounters(job.id).readyTimeouts).toBe(1)
  })

  it('closes a connection that never says hello', async () => {
    const { srv } = await start({ helloTimeoutMs: 100 })
    const s = await connect(srv)
    await closed(s)
    expect(srv.store.edgeTotals().helloTimeouts).toBe(1)
  })
})

describe('bans after quarantines', () => {
  it('bans an address from the job once banAfter of its workers were quarantined; others and other jobs are fine', async () => {
    const { srv, lines } = await start({ trustProxy: true, banAfter: 2 })
    const job = await jobOn(srv)
    const other = await jobOn(srv)
    const quarantine = async (from: string) => {
      const s = await connect(srv, from)
      const r = await hello(s, job)
      expect(r.ok).toBe(true)
      const told = evicted(s)
      srv.outbox.evict(r.workerId as string, reject('ERR_QUARANTINED'))
      expect(await told).toMatchObject({ code: 'ERR_QUARANTINED' })
    }
    await quarantine('10.0.0.5')
    expect((await hello(await connect(srv, '10.0.0.5'), job)).ok).toBe(true) // one NAT, many tabs: not yet
    await quarantine('10.0.0.5')
    const s = await connect(srv, '10.0.0.5')
    const gone = closed(s)
    expect(await hello(s, job)).toMatchObject({ ok: false, code: 'ERR_BANNED' })
    await gone
    expect((await hello(await connect(srv, '10.0.0.6'), job)).ok).toBe(true)
    expect((await hello(await connect(srv, '10.0.0.5'), other)).ok).toBe(true)
    expect(srv.store.edgeCounters(job.id)).toMatchObject({ banned: 1, bannedAddresses: 1 })
    expect(lines.find((l) => l.msg === 'address banned from the job')).toMatchObject({ level: 40, address: '10.0.0.5', job: job.id })
  })

  it('never bans loopback while it is exempt, but logs the quarantine', async () => {
    const { srv, lines } = await start({ banAfter: 1 })
    const job = await jobOn(srv)
    const s = await connect(srv)
    const r = await hello(s, job)
    srv.outbox.evict(r.workerId as string, reject('ERR_QUARANTINED'))
    expect((await hello(await connect(srv), job)).ok).toBe(true)
    expect(lines.some((l) => l.code === 'ERR_QUARANTINED')).toBe(true)
  })
})

describe('lease back-off after stall evictions', () => {
  it('a joiner from an address whose worker stalled waits 2^k s for its first lease; others do not', async () => {
    const { srv } = await start({ trustProxy: true, backoffBaseMs: 500 })
    const job = await jobOn(srv, { stallTimeoutMs: 500 })
    const staller = await connect(srv, '10.0.0.9')
    expect((await hello(staller, job)).ok).toBe(true)
    expect((await ask(staller, 'ready', { type: 'ready' })).ok).toBe(true)
    const told = evicted(staller)
    expect((await ask(staller, 'lease', { type: 'lease' })).lease).toBeTruthy()
    expect(await told).toMatchObject({ code: 'ERR_STALLED' }) // the coordinator's tick found it silent
    const t0 = performance.now()
    const late = await connect(srv, '10.0.0.9')
    expect((await hello(late, job)).ok).toBe(true)
    expect((await ask(late, 'ready', { type: 'ready' })).ok).toBe(true)
    expect(await ask(late, 'lease', { type: 'lease' })).toEqual({ ok: true, lease: null, done: false })
    const fresh = await connect(srv, '10.0.0.10')
    expect((await hello(fresh, job)).ok).toBe(true)
    expect((await ask(fresh, 'ready', { type: 'ready' })).ok).toBe(true)
    expect((await ask(fresh, 'lease', { type: 'lease' })).lease).toBeTruthy()
    await sleep(1000 - (performance.now() - t0) + 20) // k = 1: 2 × 500 ms after its hello
    expect((await ask(late, 'lease', { type: 'lease' })).lease).toBeTruthy()
    expect(srv.store.edgeCounters(job.id).backoffs).toBe(1)
  })
})

describe('flood back-off per address', () => {
  it('refuses new connections from an address whose socket was cut off, for a time that doubles with each cut-off', { timeout: 30_000 }, async () => {
    const { srv, lines } = await start({ trustProxy: true, rateLimit: { tokensPerSecond: 20, burst: 30, rejectionsToClose: 20 }, floodBackoffBaseMs: 1500 })
    const job = await jobOn(srv)
    const stats = { type: 'stats', samplesPerSecond: 1, bytes: { p2pSent: 0, p2pReceived: 0, relayReceived: 0, psReceived: 0, coordinatorSent: 0 } }
    const floodFrom = async (address: string) => {
      const s = await connect(srv, address)
      expect((await hello(s, job)).ok).toBe(true)
      const told = evicted(s)
      // the burst (30) and the 20 refusals that close it, under the raw packet bound (2 × the burst) that would
      // close it without a word
      for (let i = 0; i < 55; i++) s.emit('stats', stats)
      expect(await told).toMatchObject({ code: 'ERR_RATE_LIMITED' })
      await closed(s)
    }
    await floodFrom('10.1.0.1')
    // at once again from there: refused before the upgrade; from elsewhere: admitted
    await expect(connect(srv, '10.1.0.1')).rejects.toThrow()
    expect((await hello(await connect(srv, '10.1.0.2'), job)).ok).toBe(true)
    expect(srv.store.edgeCounters(job.id)).toMatchObject({ floodClosed: 1, floodRefused: 1 })
    expect(lines.find((l) => l.msg === 'connection refused: its address was cut off for flooding')).toMatchObject({ level: 40, job: job.id, address: '10.1.0.1', code: 'ERR_RATE_LIMITED' })
    // after the first back-off (1.5 s) it may come back; a second cut-off holds it off twice as long
    await sleep(1600)
    await floodFrom('10.1.0.1')
    const wait = srv.edge.floods.waitMs('10.1.0.1').ms
    expect(wait).toBeGreaterThan(2000)
    expect(wait).toBeLessThanOrEqual(3000)
    await expect(connect(srv, '10.1.0.1')).rejects.toThrow()
    expect(srv.store.edgeCounters(job.id)).toMatchObject({ floodClosed: 2, floodRefused: 2 })
  })
})
