// Bad input at the socket edge: every malformed message gets a coded rejection, nothing changes, nothing crashes.
import { pino } from 'pino'
import { io, type Socket } from 'socket.io-client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { JobCore } from '../../coordinator/core/job.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { unpackBinaries } from '../../protocol/bytes.ts'
import { encodeFrame, readFrame } from '../../protocol/frames.ts'
import { maxRowsOf } from '../../protocol/job.ts'
import { MAX_SOCKET_BYTES } from '../../protocol/limits.ts'
import { mulberry32 } from '../helpers/random.ts'
import { randomParts, workerUpdate } from '../helpers/tiny-data.ts'

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
  job = await srv.store.create({ data: 'builtin', model: 'mlp:16', trainLimit: 400, hyper: { minWorkers: 1, batch: 8 } as never })
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
      ['update', { type: 'update', loss: 0 }, /correct|frame|p2pTo/],
      ['update', { type: 'update', loss: 0, correct: 1.5, p2pTo: [], frame: new Uint8Array(4) }, /correct/],
      ['update', { type: 'update', loss: NaN, correct: 0, p2pTo: [], frame: new Uint8Array(4) }, /loss/],
      ['update', { type: 'update', loss: 0, correct: 0, p2pTo: [], frame: 'AAAA' }, /frame/],
      ['update', { type: 'update', loss: 0, correct: 0, p2pTo: ['a b'], frame: new Uint8Array(4) }, /p2pTo/],
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
    const clock = (lease.lease as { clock: number }).clock
    const before = { params: job.replica.params.slice(), samples: job.samples, clocks: job.ssp.clocks(), bytes: job.traffic.totals() }
    const rand = mulberry32(9)
    const frame = (f: (p: ReturnType<typeof randomParts>) => ReturnType<typeof randomParts> = (p) => p, rows = 8, c = clock) =>
      encodeFrame({ clock: c, prev: -1, rows, parts: f(randomParts(job.plan, job.comm.paths, rows, rand)) })
    const base = { type: 'update', loss: 1, correct: 1, p2pTo: [], view: { vc: {}, psUpTo: 0 } }
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ frame: new Uint8Array(12) }, 'ERR_BAD_SHAPE'],
      [{ frame: frame((p) => p.slice(1)) }, 'ERR_BAD_SHAPE'],
      [{ frame: frame((p) => [{ ...p[0], tensor: 77 }, ...p.slice(1)]) }, 'ERR_BAD_SHAPE'],
      [{ frame: frame((p) => [p[0], { ...p[1], path: 'sf', form: 'factors' }, ...p.slice(2)]) }, 'ERR_BAD_PATH'],
      [{ frame: frame((p) => (p[3].floats.fill(NaN), p)) }, 'ERR_NOT_FINITE'],
      [{ frame: frame((p) => p, maxRowsOf(job.info.hyper) + 1) }, 'ERR_BAD_SHAPE'],
      [{ frame: frame((p) => p, 8, clock + 5) }, 'ERR_CLOCK'],
      [{ p2pTo: ['w-stranger'], frame: frame() }, 'ERR_NOT_IN_JOB'],
      [{ correct: 9, frame: frame() }, 'ERR_BAD_MESSAGE'],
    ]
    const counted = job.defence.snapshot().rejected
    for (const [patch, code] of cases) expect(await ask(s, 'update', { ...base, ...patch }), code).toMatchObject({ ok: false, code })
    // every refusal is counted by code in the job view
    const now = job.defence.snapshot().rejected
    const added = Object.fromEntries(Object.entries(now).map(([k, v]) => [k, (v ?? 0) - (counted[k] ?? 0)]).filter(([, v]) => v))
    expect(added).toEqual({ ERR_BAD_SHAPE: 4, ERR_BAD_PATH: 1, ERR_NOT_FINITE: 1, ERR_CLOCK: 1, ERR_NOT_IN_JOB: 1, ERR_BAD_MESSAGE: 1 })
    expect(job.samples).toBe(before.samples)
    expect(job.ssp.clocks()).toEqual(before.clocks)
    expect(job.replica.params).toEqual(before.params)
    expect(job.traffic.totals()).toEqual(before.bytes)
    // random parts are no SGD step: the coordinator's checks refuse them and quarantine the sender, which is told why
    const evicted = new Promise<{ code: string; reason: string }>((r) => s.once('evicted', r))
    await expect(ask(s, 'update', { ...base, frame: frame() })).rejects.toThrow(/disconnected/)
    expect(await evicted).toMatchObject({ code: 'ERR_QUARANTINED', reason: expect.stringMatching(/dense_\d\/(kernel|bias)/) })
    expect(job.defence.snapshot().quarantines).toBe(1)
    expect(job.samples).toBe(before.samples)
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

  it('hands a late joiner a snapshot holding more queued updates than socket.io has attachments for', async () => {
    // one binary per queued frame made a packet the client's decoder refuses (over 10 attachments): the joiner was
    // disconnected with a parse error; the frames travel packed in one binary
    // the steps below are all taken on the first model, not a's own chain: no re-computation
    const wide = await srv.store.create({ data: 'builtin', model: 'mlp:16', trainLimit: 400, hyper: { minWorkers: 1, batch: 8, staleness: 30, verifyRate: 0 } as never })
    const a = await joined(wide.id)
    expect((await ask(a.s, 'ready', { type: 'ready' })).ok).toBe(true)
    const b = await joined(wide.id)
    expect((await ask(b.s, 'ready', { type: 'ready' })).ok).toBe(true)
    expect((await ask(a.s, 'lease', { type: 'lease' })).ok).toBe(true)
    expect((await ask(b.s, 'lease', { type: 'lease' })).ok).toBe(true) // holds a shard and never ticks: the min stays at 0
    for (let c = 0; c < 14; c++) {
      const { msg } = workerUpdate(wide, a.id, c, c - 1, 8)
      expect(await ask(a.s, 'update', msg), `update ${c}`).toMatchObject({ ok: true })
    }
    const late = await joined(wide.id)
    const snap = await ask(late.s, 'ready', { type: 'ready' })
    expect(snap.ok).toBe(true)
    const pending = snap.pending as { from: string[]; frames: Uint8Array }
    expect(pending.from).toEqual(Array(14).fill(a.id))
    expect(unpackBinaries(pending.frames).map((f) => readFrame(f, wide.plan.tensors, { expect: 'sf', maxRows: 8 }).clock)).toEqual([...Array(14).keys()])
    expect(late.s.connected).toBe(true)
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
    const badModel = await post({ data: 'builtin', model: { layers: [{ type: 'dense', units: 8 }, { type: 'conv2d', filters: 2, kernelSize: 3 }] } }, srv.operatorToken)
    expect(badModel.status).toBe(400)
    expect(await badModel.json()).toMatchObject({ code: 'ERR_BAD_MODEL', reason: expect.stringMatching(/layer 2 \(conv2d_1\): it needs an image input/) })
    const badPreset = await post({ data: 'builtin', model: 'mlp:0' }, srv.operatorToken)
    expect(await badPreset.json()).toMatchObject({ code: 'ERR_BAD_MODEL' })
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

  it('serves the model, its TF.js export and shards as binary, 404 for what does not exist', async () => {
    const m = await fetch(`${srv.url}/api/jobs/${job.id}/model`)
    expect(m.headers.get('content-type')).toBe('application/octet-stream')
    expect((await m.arrayBuffer()).byteLength).toBe(job.plan.size * 4)
    const sh = await fetch(`${srv.url}/api/jobs/${job.id}/shards/0`)
    const size = job.info.shards.size
    expect((await sh.arrayBuffer()).byteLength).toBe(8 + size * 784 * 4 + size)
    const mj = await fetch(`${srv.url}/api/jobs/${job.id}/export/model.json`)
    const json = (await mj.json()) as { format: string; weightsManifest: Array<{ paths: string[] }>; userDefinedMetadata: { tabgrid: { labels: string[] } } }
    expect(json.format).toBe('layers-model')
    expect(json.userDefinedMetadata.tabgrid.labels).toHaveLength(10)
    const path = json.weightsManifest[0].paths[0]
    expect(path).toMatch(/^weights\.bin\?clock=\d+$/)
    const w = await fetch(`${srv.url}/api/jobs/${job.id}/export/${path}`)
    expect((await w.arrayBuffer()).byteLength).toBe(job.plan.size * 4)
    const moved = await fetch(`${srv.url}/api/jobs/${job.id}/export/weights.bin?clock=999999`)
    expect(moved.status).toBe(409)
    expect(await moved.json()).toMatchObject({ code: 'ERR_MODEL_MOVED' })
    expect((await fetch(`${srv.url}/api/jobs/${job.id}/shards/999`)).status).toBe(404)
    expect((await fetch(`${srv.url}/api/jobs/${job.id}/shards/-1`)).status).toBe(404)
    expect((await fetch(`${srv.url}/api/jobs/nope/model`)).status).toBe(404)
    expect((await fetch(`${srv.url}/api/jobs/nope/export/model.json`)).status).toBe(404)
  })
})
