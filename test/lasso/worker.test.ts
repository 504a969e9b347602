// A Lasso worker (client/lasso/worker.ts, through client/train/session.ts) against an in-process socket.io server that
// plays the coordinator: blocks over HTTP, the residual, rounds and tasks, checked against apps/lasso/step.ts.
import { createServer, type Server as HttpServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Server, type Socket as ServerSocket } from 'socket.io'
import { io } from 'socket.io-client'
import { afterEach, describe, expect, it } from 'vitest'
import { coordinateDeltas } from '../../apps/lasso/step.ts'
import { CoordinatorLink, type WorkerSocket } from '../../client/transport/coordinator.ts'
import type { MeshOptions } from '../../client/transport/peer-mesh.ts'
import { Session, type Backend } from '../../client/train/session.ts'
import { asBytes, type Binary } from '../../protocol/bytes.ts'
import { LassoHyperSchema, type BlockGrant, type LassoJobInfo } from '../../protocol/lasso.ts'
import type { ClientEvents, ClientMessageType, Msg, Replies, ServerEvents } from '../../protocol/messages.ts'
import { blockColumns } from '../helpers/lasso-blocks.ts'
import { mulberry32 } from '../helpers/random.ts'

const N = 50
const P = 12
const COLS = 6
const LAMBDA = 0.3
const ZERO_COLUMN = 7

/** What the fake coordinator answers each request with (the worker's messages are recorded in order). */
type Answer = { [T in ClientMessageType]?: (msg: Msg<T>) => Replies[T] }

/** The coordinator's side of the Lasso protocol, scripted by the test: it answers requests and pushes events. */
class FakeCoordinator {
  readonly log: Array<{ type: ClientMessageType; msg: unknown }> = []
  /** Per block, ms its HTTP answer waits. */
  readonly delays = new Map<number, number>()
  url = ''
  private http!: HttpServer
  private io!: Server<ClientEvents, ServerEvents>
  private socket: ServerSocket<ClientEvents, ServerEvents> | null = null
  private taken = 0
  private wake: () => void = () => {}

  constructor(
    readonly job: LassoJobInfo,
    readonly x: Float32Array,
    private readonly answer: Answer,
  ) {}

  async start(): Promise<void> {
    this.http = createServer((req, res) => {
      const m = /^\/api\/jobs\/[\w-]+\/blocks\/(\d+)$/.exec(req.url ?? '')
      if (!m) {
        res.writeHead(404).end()
        return
      }
      const b = Number(m[1])
      const data = Buffer.from(this.x.slice(b * COLS * N, (b + 1) * COLS * N).buffer)
      setTimeout(() => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(data), this.delays.get(b) ?? 0)
    })
    this.io = new Server(this.http, { serveClient: false })
    this.io.on('connection', (s) => {
      this.socket = s
      for (const type of ['hello', 'lasso-ready', 'lasso-hold', 'lasso-result', 'stats'] as const) {
        const reply = (this.answer[type] ?? (() => ({ ok: true }))) as (msg: unknown) => unknown
        ;(s.on as (e: string, f: (msg: unknown, ack: (r: unknown) => void) => void) => void)(type, (msg, ack) => {
          this.log.push({ type, msg })
          this.wake()
          ack(reply(msg))
        })
      }
    })
    await new Promise<void>((resolve) => this.http.listen(0, '127.0.0.1', resolve))
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`
  }

  push<E extends keyof ServerEvents>(event: E, ...args: Parameters<ServerEvents[E]>): void {
    if (!this.socket) throw new Error('no worker connected')
    ;(this.socket.emit as (e: E, ...a: Parameters<ServerEvents[E]>) => void)(event, ...args)
  }

  /** The next message of `type` the worker sent (in order), waiting for it. */
  async take<T extends ClientMessageType>(type: T, timeoutMs = 10_000): Promise<Msg<T>> {
    const until = Date.now() + timeoutMs
    for (;;) {
      const i = this.log.findIndex((e, k) => k >= this.taken && e.type === type)
      if (i >= 0) {
        this.taken = i + 1
        return this.log[i].msg as Msg<T>
      }
      if (Date.now() > until) throw new Error(`no ${type} within ${timeoutMs} ms; got ${this.log.map((e) => e.type).join(', ')}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 50)
        this.wake = () => {
          clearTimeout(t)
          resolve()
        }
      })
    }
  }

  grant(block: number): BlockGrant {
    return { block, first: block * COLS, cols: COLS, url: `/api/jobs/${this.job.id}/blocks/${block}` }
  }

  async close(): Promise<void> {
    await this.io.close()
  }
}

const f32Bytes = (a: ArrayLike<number>) => new Uint8Array(Float32Array.from(a).buffer)
const u32Bytes = (a: ArrayLike<number>) => new Uint8Array(Uint32Array.from(a).buffer)
const floats = (b: Binary) => new Float32Array(new Uint8Array(asBytes(b)).buffer)
const gaussianish = (rand: () => number, n: number, scale = 1) => Float32Array.from({ length: n }, () => scale * (rand() + rand() + rand() - 1.5))

function lassoJob(): LassoJobInfo {
  return {
    id: 'lasso-1',
    name: 'tiny',
    app: 'lasso',
    state: 'running',
    dataset: { name: 'tiny', n: N, p: P },
    lambda: LAMBDA,
    threshold: 0.1,
    hyper: LassoHyperSchema.parse({ blockColumns: COLS }),
    blocks: { count: P / COLS, columns: COLS },
  }
}

/** The reference deltas of a task: apps/lasso/step.ts on the whole X, in float64 from the float32 r and β. */
function expected(x: Float32Array, r: Float32Array, picks: number[], beta: Float32Array): Float64Array {
  const b = new Float64Array(P)
  picks.forEach((j, k) => (b[j] = beta[k]))
  return coordinateDeltas({ n: N, cols: P, x }, r, picks, b, LAMBDA)
}

function expectClose(actual: Float32Array, want: Float64Array, tol = 1e-5): void {
  expect(actual.length).toBe(want.length)
  for (let i = 0; i < want.length; i++) expect(Math.abs(actual[i] - want[i]), `delta ${i}: ${actual[i]} vs ${want[i]}`).toBeLessThanOrEqual(tol)
}

const NoPeer = function NoPeer(): never {
  throw new Error('a Lasso worker opens no WebRTC links')
} as unknown as MeshOptions['Peer']

const open: Array<{ c: FakeCoordinator; s: Session }> = []
afterEach(async () => {
  for (const { c, s } of open.splice(0)) {
    s.leave()
    await c.close()
  }
})

/** A fake coordinator answering hello as a Lasso job and lasso-ready with `r0` after round 2, and a session on it. */
async function setup(backend: Backend, r0: Float32Array) {
  const rand = mulberry32(7)
  const x = blockColumns(N, P, 3, 0.6, rand)
  x.fill(0, ZERO_COLUMN * N, (ZERO_COLUMN + 1) * N)
  const job = lassoJob()
  const c = new FakeCoordinator(job, x, {
    hello: () => ({ ok: true, app: 'lasso', workerId: 'w1', job: structuredClone(job) }),
    'lasso-ready': () => ({ ok: true, round: 2, r: f32Bytes(r0) }),
  })
  await c.start()
  const socket: WorkerSocket = io(c.url, { transports: ['websocket'], reconnection: false, forceNew: true })
  const s = new Session({
    backend,
    link: new CoordinatorLink(socket),
    Peer: NoPeer,
    fetchShard: async (url) => (await fetch(new URL(url, c.url))).arrayBuffer(),
    p2p: false,
  })
  open.push({ c, s })
  return { c, s, x, rand }
}

const noEngine = (): never => {
  throw new Error('a Lasso job makes no SGD engine')
}

/** The whole protocol on one worker: blocks in and out, rounds, tasks, and the job's end. */
async function fullRun(backend: Backend): Promise<void> {
  const rand0 = mulberry32(11)
  let r = gaussianish(rand0, N)
  const { c, s, x, rand } = await setup(backend, r)
  const ran = s.run()
  expect(await c.take('hello')).toMatchObject({ type: 'hello', engine: backend.kind })
  expect(await c.take('lasso-ready')).toEqual({ type: 'lasso-ready', engine: backend.kind })

  // block 0 granted: fetched, then held
  c.push('lasso-blocks', { version: 1, blocks: [c.grant(0)] })
  expect(await c.take('lasso-hold')).toEqual({ type: 'lasso-hold', blocks: [0], version: 1 })
  expect(s.status.lasso).toMatchObject({ blocks: [0], columns: COLS, view: 2, lambda: LAMBDA })

  // a round the ready residual holds already (skipped), a change, a refresh, and a task right behind them
  c.push('lasso-round', { round: 2, dr: f32Bytes(new Float32Array(N).fill(1e3)) })
  const dr3 = gaussianish(rand, N, 0.1)
  c.push('lasso-round', { round: 3, dr: f32Bytes(dr3) })
  for (let i = 0; i < N; i++) r[i] -= dr3[i]
  const t4 = { picks: [4, 0, 2], beta: gaussianish(rand, 3, 0.3) }
  c.push('lasso-task', { round: 4, picks: u32Bytes(t4.picks), beta: f32Bytes(t4.beta) })
  const res4 = await c.take('lasso-result')
  expect(res4).toMatchObject({ round: 4, view: 3 })
  expectClose(floats(res4.deltas), expected(x, r, t4.picks, t4.beta))
  r = gaussianish(rand, N)
  c.push('lasso-round', { round: 4, r: f32Bytes(r) })
  const t5 = { picks: [5, 1], beta: Float32Array.of(0.2, -0.1) }
  c.push('lasso-task', { round: 5, picks: u32Bytes(t5.picks), beta: f32Bytes(t5.beta) })
  const res5 = await c.take('lasso-result')
  expect(res5).toMatchObject({ round: 5, view: 4 })
  expectClose(floats(res5.deltas), expected(x, r, t5.picks, t5.beta))

  // block 1 granted, its fetch slow: a task on block 0 is answered meanwhile, then block 1 alone is said held
  c.delays.set(1, 400)
  c.push('lasso-blocks', { version: 2, blocks: [c.grant(0), c.grant(1)] })
  const t6 = { picks: [3], beta: Float32Array.of(0) }
  c.push('lasso-task', { round: 6, picks: u32Bytes(t6.picks), beta: f32Bytes(t6.beta) })
  const res6 = await c.take('lasso-result')
  expect(res6).toMatchObject({ round: 6, view: 4 })
  expectClose(floats(res6.deltas), expected(x, r, t6.picks, t6.beta))
  expect(c.log.filter((e) => e.type === 'lasso-hold')).toHaveLength(1)
  expect(await c.take('lasso-hold')).toEqual({ type: 'lasso-hold', blocks: [1], version: 2 })
  expect(s.status.lasso).toMatchObject({ blocks: [0, 1], columns: 2 * COLS })

  // picks across both blocks, the all-zero column among them (its β goes to 0)
  const dr5 = gaussianish(rand, N, 0.05)
  c.push('lasso-round', { round: 5, dr: f32Bytes(dr5) })
  for (let i = 0; i < N; i++) r[i] -= dr5[i]
  const t7 = { picks: [11, 0, ZERO_COLUMN, 6], beta: Float32Array.of(0.1, -0.2, 0.5, 0) }
  c.push('lasso-task', { round: 7, picks: u32Bytes(t7.picks), beta: f32Bytes(t7.beta) })
  const res7 = await c.take('lasso-result')
  expect(res7).toMatchObject({ round: 7, view: 5 })
  const d7 = floats(res7.deltas)
  expectClose(d7, expected(x, r, t7.picks, t7.beta))
  expect(d7[2]).toBeCloseTo(-0.5, 6)
  expect(Array.from(d7).some((d, k) => k !== 2 && d !== 0)).toBe(true)

  // block 0 moved to a joiner: dropped, no hold; a task on block 1 goes on
  c.push('lasso-blocks', { version: 3, blocks: [c.grant(1)] })
  const t8 = { picks: [9, 10], beta: Float32Array.of(0.05, 0) }
  c.push('lasso-task', { round: 8, picks: u32Bytes(t8.picks), beta: f32Bytes(t8.beta) })
  const res8 = await c.take('lasso-result')
  expect(res8).toMatchObject({ round: 8, view: 5 })
  expectClose(floats(res8.deltas), expected(x, r, t8.picks, t8.beta))
  expect(s.status.lasso).toMatchObject({ blocks: [1], columns: COLS })

  // the job is done: the run ends cleanly
  c.push('job', { state: 'done' })
  await ran
  expect(s.status.phase).toBe('done')
  expect(s.status.error).toBeUndefined()
  expect(s.status.app).toBe('lasso')
  expect(s.status.lasso).toMatchObject({ tasks: 5, updates: 3 + 2 + 1 + 4 + 2, round: 8, view: 5 })
  expect(c.log.filter((e) => e.type === 'lasso-hold')).toHaveLength(2)
  expect(c.log.map((e) => e.type)).not.toContain('stats')
  await expect(s.readModel()).rejects.toThrow(/coordinator/)
}

describe('LassoWorker (through Session)', () => {
  it('CPU: holds exactly the new blocks, answers tasks after the rounds before them, and ends on done', async () => {
    await fullRun({ kind: 'cpu', create: noEngine })
  })

  it('WebGPU: the same run with the WGSL coordinate steps', async () => {
    const { testDevice } = await import('../gpu/device.ts')
    const device = await testDevice()
    await fullRun({ kind: 'webgpu', device, create: noEngine })
  })

  it('eviction ends the run with its error code', async () => {
    const { c, s } = await setup({ kind: 'cpu', create: noEngine }, new Float32Array(N))
    const ran = s.run()
    await c.take('lasso-ready')
    c.push('lasso-blocks', { version: 1, blocks: [c.grant(1)] })
    await c.take('lasso-hold')
    c.push('evicted', { ok: false, code: 'ERR_STALLED', reason: 'no answer in time' })
    await expect(ran).rejects.toMatchObject({ code: 'ERR_STALLED' })
    expect(s.status.phase).toBe('error')
  })

  it('a cancelled job ends the run without an error, saying why; a task on a block not held ends it with ERR_LEASE', async () => {
    const a = await setup({ kind: 'cpu', create: noEngine }, new Float32Array(N))
    const ranA = a.s.run()
    await a.c.take('lasso-ready')
    a.c.push('job', { state: 'failed', reason: 'cancelled by the operator' })
    await expect(ranA).resolves.toBeUndefined()
    expect(a.s.status).toMatchObject({ phase: 'done', jobReason: 'cancelled by the operator', job: { state: 'failed' } })
    expect(a.s.status.error).toBeUndefined()

    const b = await setup({ kind: 'cpu', create: noEngine }, new Float32Array(N))
    const ranB = b.s.run()
    await b.c.take('lasso-ready')
    b.c.push('lasso-task', { round: 3, picks: u32Bytes([1]), beta: f32Bytes([0]) })
    await expect(ranB).rejects.toMatchObject({ code: 'ERR_LEASE' })
  })
})
