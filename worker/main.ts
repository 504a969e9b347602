// `tabgrid worker`: a headless volunteer for machines with a GPU (or just cores). The page's session, engines and
// rejoin policy in Node, with Dawn or the CPU kernels and no WebRTC: peers' factors reach it through the relay.
import { writeFileSync } from 'node:fs'
import { io } from 'socket.io-client'
import type { OpenedDevice } from '../client/gpu/device.ts'
import { backendFor, decideEngine, engineLabel, type EngineAsk } from '../client/gpu/engine-choice.ts'
import type { RaceResult } from '../client/gpu/engine-race.ts'
import { CoordinatorLink, REQUEST_TIMEOUT_MS, type WorkerSocket } from '../client/transport/coordinator.ts'
import type { MeshOptions } from '../client/transport/peer-mesh.ts'
import { afterSession } from '../client/train/rejoin.ts'
import { Session, type Backend } from '../client/train/session.ts'
import { lassoJob, sgdJob, type WorkerStatus } from '../client/train/status.ts'
import { arenaBytes } from '../model/params.ts'
import { ERROR_CODES, TabgridError, type ErrorCode } from '../protocol/errors.ts'
import { openNodeGpu } from './gpu.ts'
import type { RunWorker, WorkerOptions, WorkerOutput } from './options.ts'
import { endLine, statusLine, type SessionEndReport } from './report.ts'

const DEFAULT_STATUS_EVERY_SEC = 5

/**
 * The simple-peer constructor slot of a session without WebRTC: with `p2p: false` the mesh never opens a link (every
 * pair goes through the coordinator's relay), so this is never called; if it were, the error says why.
 */
const NoWebRtc = function NoWebRtc(): never {
  throw new TabgridError('ERR_PEER_SIGNAL', 'tabgrid worker has no WebRTC: its updates travel through the relay')
} as unknown as MeshOptions['Peer']

/** The engine, as the page would pick it; null (and a line on stderr) when the one asked for is not there. */
async function pickEngine(asked: EngineAsk, output: WorkerOutput, onGpuLost: (err: TabgridError) => void): Promise<{ backend: Backend; adapter: string; device?: GPUDevice } | null> {
  const flag = (e: EngineAsk) => `--engine ${e}`
  let opened: OpenedDevice | undefined
  let missing: string | undefined
  if (asked !== 'cpu') {
    const gpu = await openNodeGpu((message, err) => {
      // a lost device ends the work (the engine cannot go on without it); other GPU errors are the page's notices
      if (err instanceof TabgridError && err.code === 'ERR_GPU_LOST') onGpuLost(err)
      else output.err(`GPU error: ${message}`)
    })
    if ('opened' in gpu) opened = gpu.opened
    else missing = gpu.missing
  }
  if (asked === 'webgpu' && !opened) {
    output.err(`tabgrid worker: ERR_NO_WEBGPU: --engine webgpu, but ${missing}; --engine cpu (or auto) trains with the CPU kernels`)
    return null
  }
  const d = decideEngine(asked, opened ?? (missing ? { missing } : undefined), flag)
  if (opened) output.err(`adapter: ${opened.adapter} · ${opened.limits}`)
  output.err(`engine: ${engineLabel(d)}`)
  if (d.kind === 'cpu') {
    opened?.device.destroy()
    return { backend: backendFor('cpu'), adapter: opened ? `${opened.adapter} (unused: CPU engine)` : 'none (CPU engine)' }
  }
  const timed = d.timed ? (r: RaceResult) => output.err(`engine: ${engineLabel(r)}`) : undefined
  return { backend: backendFor('webgpu', opened!.device, timed), adapter: opened!.adapter, device: opened!.device }
}

/** A shard over HTTP; its URL is the coordinator's, relative to the server. Failures carry the coordinator's code. */
async function fetchShard(server: URL, url: string): Promise<ArrayBuffer> {
  const target = new URL(url, server)
  let r: Response
  try {
    r = await fetch(target, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) })
  } catch (e) {
    const why = e instanceof Error ? (e.cause instanceof Error ? e.cause.message : e.message) : String(e)
    // unreachable: the coordinator went away, which the rejoin policy treats like a dropped socket
    throw e instanceof Error && e.name === 'TimeoutError'
      ? new TabgridError('ERR_TIMEOUT', `shard ${target.pathname}: no answer within ${REQUEST_TIMEOUT_MS} ms`)
      : new TabgridError('ERR_DISCONNECTED', `shard ${target.pathname}: ${why}`)
  }
  if (!r.ok) {
    const body = (await r.json().catch(() => ({}))) as { code?: string; reason?: string }
    const code: ErrorCode = body.code && body.code in ERROR_CODES ? (body.code as ErrorCode) : 'ERR_INTERNAL'
    throw new TabgridError(code, `shard ${target.pathname}: HTTP ${r.status}${body.reason ? ` (${body.reason})` : ''}`)
  }
  return r.arrayBuffer()
}

/** The engine a session computes with: its Lasso worker's, its SGD engine's, or the backend's guess before either. */
function engineOf(session: Session, backend: Backend): 'webgpu' | 'cpu' {
  return session.lasso?.kind ?? session.engine?.kind ?? backend.kind
}

/** The line said once a session has its job (s.job is set). */
function joinedLine(s: WorkerStatus, origin: string): string {
  const lasso = lassoJob(s)
  if (lasso) {
    const h = lasso.hyper
    return `joined Lasso job ${lasso.id} (${lasso.name}) as worker ${s.workerId} on ${origin}: ${lasso.dataset.n} × ${lasso.dataset.p}, λ=${lasso.lambda.toPrecision(4)}, ${h.scheduler} scheduler, s=${h.staleness}, ${lasso.blocks.count} blocks of ${lasso.blocks.columns} columns`
  }
  const job = sgdJob(s)!
  return `joined job ${job.id} (${job.name}) as worker ${s.workerId} on ${origin}: B=${job.hyper.batch}, s=${job.hyper.staleness}, ${job.hyper.epochs} epochs, no WebRTC (peers' updates come through the relay)`
}

function parseServer(s: string): URL | null {
  try {
    const u = new URL(s)
    return u.protocol === 'http:' || u.protocol === 'https:' ? u : null
  } catch {
    return null // not a URL at all: the caller says so
  }
}

/**
 * Joins a coordinator's jobs like a volunteer tab until done, interrupted or stopped by an error.
 *
 * @example
 * const code = await runWorker({ server: 'http://127.0.0.1:8080', engine: 'auto', once: true }, { out: console.log, err: console.error })
 */
export const runWorker: RunWorker = async (opts: WorkerOptions, output: WorkerOutput, signal?: AbortSignal): Promise<number> => {
  const exit = (code: number, jobs: number, error?: { code: string; reason: string }) => {
    if (opts.json) output.out(JSON.stringify({ type: 'exit', code, jobs, ...(error ? { error } : {}) }))
    return code
  }
  const server = parseServer(opts.server)
  if (!server) {
    output.err(`tabgrid worker: --server ${opts.server}: not an http(s) URL`)
    return exit(2, 0, { code: 'ERR_BAD_MESSAGE', reason: `--server ${opts.server}: not an http(s) URL` })
  }
  let current: Session | undefined
  let gpuLost: TabgridError | undefined
  const engine = await pickEngine(opts.engine, output, (err) => {
    gpuLost = err
    current?.destroy(err)
  })
  if (!engine) return exit(2, 0, { code: 'ERR_NO_WEBGPU', reason: `--engine ${opts.engine}: no usable GPU adapter` })

  let stopped = signal?.aborted ?? false
  let wake = () => {}
  const onAbort = () => {
    stopped = true
    current?.leave()
    wake()
  }
  signal?.addEventListener('abort', onAbort)
  const aborted = new Promise<void>((r) => {
    if (stopped) r()
    signal?.addEventListener('abort', () => r(), { once: true })
  })
  const everyMs = 1000 * (opts.statusEverySec ?? DEFAULT_STATUS_EVERY_SEC)
  const agent = `tabgrid worker (Node ${process.versions.node}; ${process.platform} ${process.arch})`
  let unreached = 0
  let jobsDone = 0
  /** With --once, the job this worker joined first: it works on that one only from then on. */
  let stuck: string | undefined
  let lastWait = ''
  try {
    while (!stopped) {
      const jobId = opts.job ?? stuck
      // No socket.io reconnection, as on the page: a dropped worker rejoins as a new one (its shard went back to the pool).
      const socket: WorkerSocket = io(server.origin, { transports: ['websocket'], reconnection: false, forceNew: true })
      let unreachable = ''
      socket.on('connect_error', (e) => (unreachable = e.message))
      let announced = false
      const session = new Session({
        backend: engine.backend,
        link: new CoordinatorLink(socket),
        Peer: NoWebRtc,
        fetchShard: (url) => fetchShard(server, url),
        ...(jobId ? { jobId } : {}),
        p2p: false,
        adapter: engine.adapter,
        agent,
        onStatus: (s) => {
          if (announced || !s.job || s.phase === 'connecting') return
          announced = true
          lastWait = ''
          if (opts.once) stuck ??= s.job.id
          output.err(joinedLine(s, server.origin))
        },
      })
      current = session
      if (gpuLost) session.destroy(gpuLost)
      const timer = setInterval(() => {
        const s = session.status
        if (!s.job || s.phase === 'connecting' || s.phase === 'linking') return
        const line = statusLine(s, engineOf(session, engine.backend))
        output.err(line.human)
        if (opts.json) output.out(JSON.stringify(line.json))
      }, everyMs)
      let error: (Error & { code?: string }) | undefined
      const ran = session.run().catch((e: Error & { code?: string }) => {
        error = e
      })
      // after SIGINT the session has left: a request still pending (a hello to a coordinator that does not answer)
      // need not be waited for
      await Promise.race([ran, aborted])
      clearInterval(timer)
      socket.disconnect()
      const s = session.status
      const done = s.phase === 'done' && !stopped
      const report: SessionEndReport = { status: s, engine: engineOf(session, engine.backend), outcome: stopped ? 'left' : done ? 'done' : 'error', ...(error ? { error } : {}) }
      if (done) {
        jobsDone++
        // a Lasso worker holds no model (β is the coordinator's): nothing to save
        if (opts.saveModel && s.job && s.app === 'sgd') {
          const model = await session.readModel()
          const file = opts.saveModel.replaceAll('{job}', s.job.id)
          writeFileSync(file, arenaBytes(model))
          report.saved = { file, params: model.length }
        }
      }
      if (s.job) {
        const line = endLine(report)
        output.err(line.human)
        if (opts.json) output.out(JSON.stringify(line.json))
      }
      if (stopped) break
      const end = afterSession({ code: error?.code, reached: !!s.workerId, done, left: false, tied: !!(opts.job ?? stuck) }, unreached)
      unreached = end.unreached
      const next = end.next
      if (next.action === 'stop') {
        if (!error) return exit(0, jobsDone)
        output.err(`tabgrid worker: ${error.message}`)
        return exit(1, jobsDone, { code: error.code ?? 'ERR_INTERNAL', reason: error.message })
      }
      // say why it waits once, not every 5 s while nothing changes
      const wait =
        next.why === 'no-job'
          ? `no job is taking workers on ${server.origin}; waiting for one`
          : next.why === 'next-job'
            ? 'waiting for the next job'
            : `${unreachable ? `cannot reach the coordinator at ${server.origin} (${unreachable})` : `lost the coordinator (${error?.message})`}; rejoining`
      if (wait !== lastWait) output.err(`${wait}${next.why === 'dropped' ? ` in ${(next.waitMs / 1000).toFixed(0)} s` : ''}`)
      lastWait = wait
      await new Promise<void>((r) => {
        const t = setTimeout(r, next.waitMs)
        wake = () => {
          clearTimeout(t)
          r()
        }
      })
    }
    return exit(0, jobsDone)
  } finally {
    signal?.removeEventListener('abort', onAbort)
    // sessions free their own buffers; the device is the worker's, for all its jobs
    engine.device?.destroy()
  }
}
