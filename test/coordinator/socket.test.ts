// Bad input at the socket edge: every malformed message gets a coded rejection, nothing changes, nothing crashes.
import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobCore } from '../../coordinator/core/job.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { MAX_SOCKET_BYTES } from '../../protocol/limits.ts'

let srv: RunningServer
let job: JobCore
let other: JobCore
const sockets: Socket[] = []

function connect(): Promise<Socket> {
  const s = io(srv.url, { transports: ['websocket'], forceNew: true, reconnection: false })
  sockets.push(s)
  return new Promise((resolve, reject) => {
    s.once('connect', () => resolve(s))
    s.once('connect_error', reject)
  })
}

function ask(s: Socket, event: string, msg: unknown): Promise<{ ok: boolean; code?: string; reason?: string; [k: string]: unknown }> {
  return s.timeout(5000).emitWithAck(event, msg)
}

async function joined(jobId = job.id) {
  const s = await connect()
  const r = await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId })
  expect(r.ok).toBe(true)
  return { s, id: r.workerId as string }
}

beforeAll(async () => {
  srv = await startServer({ port: 0, log: pino({ level: 'silent' }) })
  job = await srv.store.create({ data: 'builtin', trainLimit: 400, hyper: { minWorkers: 1, batch: 8 } as never })
  other = await srv.store.create({ data: 'builtin', trainLimit: 400 })
})
afterAll(async () => {
  for (const s of sockets) s.disconnect()
  await srv.close()
})

describe('the socket edge', () => {
  it('rejects malformed messages with ERR_BAD_MESSAGE and a reason naming the field', async () => {
    const s = await connect()
    const cases: Array<[string, unknown, RegExp]> = [
      ['hello', 'not an object', /hello: message/],
      ['hello', { type: 'hello' }, /engine/],
      ['hello', { type: 'hello', engine: 'quantum' }, /engine/],
      ['hello', { type: 'hello', engine: 'cpu', jobId: '../../etc' }, /jobId/],
      ['hello', { type: 'hello', engine: 'cpu', adapter: 'x'.repeat(10_000) }, /adapter/],
      ['hello', { type: 'lease' }, /type/],
      ['update', { type: 'update', clock: -1 }, /clock/],
      ['update', { type: 'update', clock: 1.5, prev: 0, form: 'factors', rows: 1, loss: 0, correct: 0, p2pTo: [], payload: new Uint8Array(4) }, /clock/],
      ['update', { type: 'update', clock: 1, prev: 0, form: 'factors', rows: 1, loss: NaN, correct: 0, p2pTo: [], payload: new Uint8Array(4) }, /loss/],
      ['update', { type: 'update', clock: 1, prev: 0, form: 'factors', rows: 1, loss: 0, correct: 0, p2pTo: [], payload: 'AAAA' }, /payload/],
      ['signal', { type: 'signal', to: 'w-1', data: { type: 'offer', sdp: 'x'.repeat(40_000) } }, /sdp/],
      ['signal', { type: 'signal', to: 'w-1', data: { type: 'bogus' } }, /data/],
    ]
    for (const [event, msg, reason] of cases) {
      const r = await ask(s, event, msg)
      expect(r, `${event} ${JSON.stringify(msg).slice(0, 80)}`).toMatchObject({ ok: false, code: 'ERR_BAD_MESSAGE' })
      expect(r.reason).toMatch(reason)
    }
  })

  it('refuses work before hello and ready, unknown jobs, and a second hello', async () => {
    const s = await connect()
    expect(await ask(s, 'lease', { type: 'lease' })).toMatchObject({ ok: false, code: 'ERR_NOT_JOINED' })
    expect(await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: 'j-nope' })).toMatchObject({ ok: false, code: 'ERR_UNKNOWN_JOB' })
    expect(await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: job.id })).toMatchObject({ ok: true })
    expect(await ask(s, 'hello', { type: 'hello', engine: 'cpu', jobId: job.id })).toMatchObject({ ok: false, code: 'ERR_BAD_MESSAGE' })
    expect(await ask(s, 'lease', { type: 'lease' })).toMatchObject({ ok: false, code: 'ERR_NOT_JOINED' })
    expect(await ask(s, 'resend', { type: 'resend', from: 'w-x', after: 0 })).toMatchObject({ ok: false, code: 'ERR_NOT_JOINED' })
  })

  it('never relays a signal or names a peer outside the sender’s own job', async () => {
    const a = await joined(job.id)
    const b = await joined(other.id)
    let leaked = false
    b.s.on('signal', () => (leaked = true))
    expect(await ask(a.s, 'signal', { type: 'signal', to: b.id, data: { type: 'offer', sdp: 'v=0' } })).toMatchObject({ ok: false, code: 'ERR_NOT_IN_JOB' })
    expect(await ask(a.s, 'link', { type: 'link', peer: b.id, state: 'p2p' })).toMatchObject({ ok: false, code: 'ERR_NOT_IN_JOB' })
    await new Promise((r) => setTimeout(r, 100))
    expect(leaked).toBe(false)
  })

  it('rejects a bad update with a code and leaves the job as it was', async () => {
    const { s } = await joined()
    expect((await ask(s, 'ready', { type: 'ready' })).ok).toBe(true)
    const lease = await ask(s, 'lease', { type: 'lease' })
    expect(lease.ok).toBe(true)
    const { K, J } = job.info.dims
    const before = { W: job.replica.params.W.slice(), samples: job.samples, clocks: job.ssp.clocks() }
    const good = () => new Uint8Array(new Float32Array(8 * (K + J)).fill(0.01).buffer)
    const base = { type: 'update', clock: (lease.lease as { clock: number }).clock, prev: -1, form: 'factors', rows: 8, loss: 1, correct: 1, p2pTo: [] }
    const nan = new Float32Array(8 * (K + J))
    nan[100] = NaN
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ payload: new Uint8Array(12) }, 'ERR_BAD_SHAPE'],
      [{ payload: new Uint8Array(nan.buffer) }, 'ERR_NOT_FINITE'],
      [{ rows: 9, payload: new Uint8Array(9 * (K + J) * 4) }, 'ERR_BAD_SHAPE'],
      [{ clock: 5, payload: good() }, 'ERR_CLOCK'],
      [{ p2pTo: ['w-stranger'], payload: good() }, 'ERR_NOT_IN_JOB'],
    ]
    for (const [patch, code] of cases) expect(await ask(s, 'update', { ...base, ...patch })).toMatchObject({ ok: false, code })
    expect(job.samples).toBe(before.samples)
    expect(job.ssp.clocks()).toEqual(before.clocks)
    expect(Array.from(job.replica.params.W)).toEqual(Array.from(before.W))
    expect(await ask(s, 'update', { ...base, payload: good() })).toEqual({ ok: true })
    expect(job.samples).toBe(before.samples + 8)
  })

  it('drops a connection that sends more than the size bound, and keeps serving the others', async () => {
    const s = await connect()
    const closed = new Promise<string>((r) => s.once('disconnect', (why) => r(why)))
    s.emit('update', { type: 'update', payload: new Uint8Array(MAX_SOCKET_BYTES + 1024) })
    expect(await closed).toMatch(/transport close|io server disconnect/)
    const res = await fetch(`${srv.url}/api/health`)
    expect(await res.json()).toMatchObject({ ok: true })
    const t = await connect()
    expect((await ask(t, 'hello', { type: 'hello', engine: 'cpu', jobId: job.id })).ok).toBe(true)
  })

  it('answers a message sent without an ack with a rejected event instead of crashing', async () => {
    const s = await connect()
    const notice = new Promise<{ code: string }>((r) => s.once('rejected', r))
    s.emit('lease', { type: 'lease' })
    expect(await notice).toMatchObject({ code: 'ERR_NOT_JOINED' })
    expect(s.connected).toBe(true)
  })
})

describe('the HTTP API', () => {
  it('creates jobs only with the operator token, validating the body', async () => {
    const post = (body: unknown, token?: string) =>
      fetch(`${srv.url}/api/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) }, body: JSON.stringify(body) })
    expect((await post({ data: 'builtin' })).status).toBe(401)
    expect((await post({ data: 'builtin' }, 'wrong')).status).toBe(401)
    const bad = await post({ hyper: { staleness: -1 } }, srv.operatorToken)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ code: 'ERR_BAD_MESSAGE', reason: expect.stringMatching(/staleness/) })
    const unknown = await post({ data: 'ftp:nowhere' }, srv.operatorToken)
    expect(unknown.status).toBe(400)
    const n = srv.store.jobs.size
    const ok = await post({ data: 'builtin', trainLimit: 200, hyper: { staleness: 0, epochs: 1 } }, srv.operatorToken)
    expect(ok.status).toBe(201)
    const created = (await ok.json()) as { id: string; hyper: { staleness: number } }
    expect(created.hyper.staleness).toBe(0)
    expect(srv.store.jobs.size).toBe(n + 1)
    const list = (await (await fetch(`${srv.url}/api/jobs`)).json()) as Array<Record<string, unknown>>
    const row = list.find((j) => j.id === created.id)!
    for (const k of ['id', 'state', 'workers', 'minClock', 'maxClock', 'testAccuracy']) expect(row).toHaveProperty(k)
  })

  it('serves the model and shards as binary, 404 for what does not exist', async () => {
    const { K, J } = job.info.dims
    const m = await fetch(`${srv.url}/api/jobs/${job.id}/model`)
    expect(m.headers.get('content-type')).toBe('application/octet-stream')
    expect((await m.arrayBuffer()).byteLength).toBe((K * J + K) * 4)
    const sh = await fetch(`${srv.url}/api/jobs/${job.id}/shards/0`)
    const size = job.info.shards.size
    expect((await sh.arrayBuffer()).byteLength).toBe(8 + size * J * 4 + size)
    expect((await fetch(`${srv.url}/api/jobs/${job.id}/shards/999`)).status).toBe(404)
    expect((await fetch(`${srv.url}/api/jobs/${job.id}/shards/-1`)).status).toBe(404)
    expect((await fetch(`${srv.url}/api/jobs/nope/model`)).status).toBe(404)
  })
})
