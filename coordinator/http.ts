// The HTTP side: the two pages, the JSON API under /api, and shards and models as binary.
import express, { type Request, type Response } from 'express'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { reject } from '../protocol/errors.ts'
import { CreateJobSchema, type EdgeView, type JobDetail, type JobGlance } from '../protocol/job.ts'
import { CreateLassoJobSchema } from '../protocol/lasso.ts'
import { toTfjsModel } from '../model/export.ts'
import type { JobCore } from './core/job.ts'
import type { LassoJob } from './core/lasso-job.ts'
import type { DataCatalog } from '../protocol/operator.ts'
import type { DataRoots } from './data/index.ts'
import type { DurableStore } from './durable/types.ts'
import { curveCsv } from './ops/curve-csv.ts'
import { BUILTIN_DATA, findDataFiles } from './ops/catalog.ts'
import { UploadError, type Uploads } from './ops/uploads.ts'
import { ClockAheadError, NoHistoryError, type AnyJob, type JobStore } from './store.ts'

export interface HttpOptions {
  store: JobStore
  clientDir: string
  operatorToken: string
  log: Logger
  /** Jobs created through the API read data only inside these (--data-root); the uploads' folder is one of them. */
  dataRoots: DataRoots
  /** Where the console's uploads go. */
  uploads: Uploads
}

/** Everything GET /api/jobs/:id shows: the summary, live workers, the curve and the ledger's proof. */
export function jobDetail(job: JobCore, edge: EdgeView, durable?: DurableStore): JobDetail {
  const clocks = job.ssp.clocks()
  const paths = job.comm.paths
  return {
    ...job.summary(),
    info: job.jobInfo(),
    bytes: { ...job.traffic.totals(), tensors: job.traffic.tensors(paths) },
    layers: job.plan.layers.map((l) => ({ name: l.name, type: l.type, inShape: l.inShape, outShape: l.outShape, activation: l.activation })),
    tensors: job.plan.tensors.map((t) => ({ name: t.name, shape: t.shape, offset: t.offset, size: t.size, path: paths[t.index] })),
    comm: { ...job.comm.view(), history: job.comm.history },
    clocks: Object.fromEntries(job.clocksByWorker),
    workersList: [...job.members.values()].map((m) => ({
      id: m.id,
      engine: m.engine,
      adapter: m.adapter,
      ready: m.ready,
      clock: clocks[m.id] ?? null,
      samples: m.samples,
      samplesPerSecond: m.samplesPerSecond,
      lastLoss: m.lastLoss,
      firstLoss: m.firstLoss,
      links: m.links,
      bytes: m.bytes,
      leases: job.ledger.leasesOf(m.id).map((l) => ({ shard: l.shard, epoch: l.epoch })),
      ...(m.time ? { time: m.time } : {}),
      joinedAt: m.joinedAt,
      paused: m.paused,
      duty: m.duty,
    })),
    departed: job.history.departedView(),
    progress: job.history.progress(),
    curve: job.curve.points,
    ledger: job.ledger.report(),
    returned: job.returned,
    defence: job.defence.snapshot(),
    edge,
    ...(durable ? { disk: { ...durable.disk(job.id), oldestClock: durable.oldestFrontier(job.id) ?? 0 } } : {}),
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  }
}

export function createApp({ store, clientDir, operatorToken, log, dataRoots, uploads }: HttpOptions): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ limit: '64kb' }))

  /** Whether the request carries the operator token; answers 401 when it does not. */
  const operator = (req: Request, res: Response): boolean => {
    if (req.get('authorization') === `Bearer ${operatorToken}`) return true
    res.status(401).json(reject('ERR_UNAUTHORIZED'))
    return false
  }

  /** A job of either app by id; answers 404 ERR_UNKNOWN_JOB when there is none. */
  const anyOr404 = (req: Request, res: Response): AnyJob | undefined => {
    const job = store.any(String(req.params.id))
    if (!job) res.status(404).json(reject('ERR_UNKNOWN_JOB', `no job ${req.params.id}`))
    return job
  }

  const page = (file: string) => (_req: Request, res: Response) => {
    const path = join(clientDir, file)
    if (!existsSync(path)) {
      res.status(503).type('text').send('The client pages are not built: run `npm run build` (npm start does it for you).')
      return
    }
    res.sendFile(path)
  }
  app.get('/', page('index.html'))
  app.get('/console', page('console.html'))

  app.get('/api/health', (_req, res) => {
    res.json({ ok: true, jobs: store.all().length })
  })
  app.get('/api/jobs', (_req, res) => {
    res.json(store.all().map((j) => j.summary()))
  })
  // The console's sign-in: 200 with the operator token, 401 without.
  app.get('/api/operator', (req, res) => {
    if (operator(req, res)) res.json({ ok: true })
  })
  // What a job can be started on: the built-in sets and the data files under the data roots (uploads included).
  app.get('/api/data', async (req, res) => {
    if (!operator(req, res)) return
    const catalog: DataCatalog = { builtin: BUILTIN_DATA, files: await findDataFiles(dataRoots.dirs), maxUploadBytes: uploads.maxBytes }
    res.json(catalog)
  })
  // A data file from the console, as the raw body: ?name=FILE, and &into=ID to add a file (IDX) to an earlier upload.
  app.post('/api/uploads', async (req, res) => {
    if (!operator(req, res)) return
    const declared = req.get('content-length')
    try {
      const u = await uploads.save(String(req.query.name ?? ''), req.query.into === undefined ? undefined : String(req.query.into), req, declared ? Number(declared) : undefined)
      log.info({ upload: u.id, files: u.files, bytes: u.bytes }, 'data uploaded')
      res.status(201).json(u)
    } catch (e) {
      if (!(e instanceof UploadError)) throw e
      const [status, code] = e.kind === 'size' ? ([413, 'ERR_TOO_LARGE'] as const) : e.kind === 'unknown' ? ([404, 'ERR_BAD_MESSAGE'] as const) : ([400, 'ERR_BAD_MESSAGE'] as const)
      // the rest of a refused body is not read: the connection closes after the answer
      res.set('connection', 'close').status(status).json(reject(code, e.message))
    }
  })
  // The operator's controls: pause (every worker holds at its next clock boundary), resume, cancel (the job fails).
  for (const action of ['pause', 'resume', 'cancel'] as const) {
    app.post(`/api/jobs/:id/${action}`, (req, res) => {
      if (!operator(req, res)) return
      const id = String(req.params.id)
      const refused = store.control(id, action)
      if (refused) {
        res.status(refused.code === 'ERR_UNKNOWN_JOB' ? 404 : 409).json(refused)
        return
      }
      const job = store.any(id)!
      log.info({ job: id, action, state: job.state }, `job ${action}`)
      res.json(job.summary())
    })
  }
  // The job's curve as CSV: SGD's test evaluations, Lasso's objective over rounds.
  app.get('/api/jobs/:id/curve.csv', (req, res) => {
    const job = anyOr404(req, res)
    if (!job) return
    res.set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${job.id}-curve.csv"`, 'cache-control': 'no-store' })
    res.send(curveCsv(job))
  })
  app.post('/api/jobs', async (req, res) => {
    if (!operator(req, res)) return
    const body = (req.body ?? {}) as { app?: unknown }
    const lasso = body.app === 'lasso'
    if (body.app !== undefined && body.app !== 'sgd' && !lasso) {
      res.status(400).json(reject('ERR_BAD_MESSAGE', `app: sgd or lasso, got ${JSON.stringify(body.app)}`))
      return
    }
    const { app: _app, ...rest } = body
    const parsed = lasso ? CreateLassoJobSchema.safeParse(body) : CreateJobSchema.safeParse(rest)
    if (!parsed.success) {
      const i = parsed.error.issues[0]
      res.status(400).json(reject('ERR_BAD_MESSAGE', `${i.path.join('.') || 'body'}: ${i.message}`))
      return
    }
    try {
      if (lasso) {
        const job = await store.createLasso(parsed.data as Parameters<JobStore['createLasso']>[0], { roots: dataRoots })
        log.info({ job: job.id, app: 'lasso', data: job.info.dataset.name }, 'job created')
        res.status(201).json(job.summary())
        return
      }
      const job = await store.create(parsed.data as Parameters<JobStore['create']>[0], { roots: dataRoots })
      log.info({ job: job.id, data: parsed.data.data }, 'job created')
      res.status(201).json(job.summary())
    } catch (e) {
      const code = (e as { code?: string }).code === 'ERR_BAD_MODEL' ? 'ERR_BAD_MODEL' : 'ERR_BAD_MESSAGE'
      res.status(400).json(reject(code, (e as Error).message))
    }
  })
  /** An SGD job by id; a Lasso job's id gets 409 (it has no model, its coefficients are at /beta). */
  const jobOr404 = (req: Request, res: Response): JobCore | undefined => {
    const id = String(req.params.id)
    const job = store.get(id)
    if (!job && store.lasso.has(id)) res.status(409).json(reject('ERR_BAD_MESSAGE', `job ${id} is a Lasso job: it has no model; its coefficients are at /api/jobs/${id}/beta`))
    else if (!job) res.status(404).json(reject('ERR_UNKNOWN_JOB', `no job ${id}`))
    return job
  }
  const lassoOr404 = (req: Request, res: Response): LassoJob | undefined => {
    const job = store.lasso.get(String(req.params.id))
    if (!job) res.status(404).json(reject('ERR_UNKNOWN_JOB', `no Lasso job ${req.params.id}`))
    return job
  }
  app.get('/api/jobs/:id', (req, res) => {
    const lasso = store.lasso.get(String(req.params.id))
    if (lasso) {
      res.json({ ...lasso.detail(), edge: store.edgeCounters(lasso.id) })
      return
    }
    const job = jobOr404(req, res)
    if (job) res.json(jobDetail(job, store.edgeCounters(job.id), store.durable))
  })
  // The summary and the curve: what volunteers' pages poll (JobGlance), cheap whatever the grid's size.
  app.get('/api/jobs/:id/glance', (req, res) => {
    const job = anyOr404(req, res)
    if (!job) return
    const glance: JobGlance = job.app === 'lasso' ? { ...job.summary(), curve: job.curve.slice() } : { ...job.summary(), startedAt: job.startedAt, curve: job.curve.points }
    res.set('cache-control', 'no-store').json(glance)
  })
  // A Lasso job's column block: n rows × its columns, f32 little-endian, column-major.
  app.get('/api/jobs/:id/blocks/:block', (req, res) => {
    const bytes = store.lasso.get(req.params.id)?.blockBytes(Number(req.params.block))
    if (!bytes) {
      res.status(404).json(reject('ERR_UNKNOWN_JOB', `no block ${req.params.block} in Lasso job ${req.params.id}`))
      return
    }
    res.set({ 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=3600, immutable' })
    res.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  })
  // A Lasso job's coefficients: CSV (feature, β on the standardised features, β on the raw scale, and the intercept)
  // or ?format=f32 (β on the standardised features, little-endian).
  app.get('/api/jobs/:id/beta', (req, res) => {
    const job = lassoOr404(req, res)
    if (!job) return
    res.set({ 'x-tabgrid-round': String(job.completed + 1), 'cache-control': 'no-store' })
    if (req.query.format === 'f32') {
      const f = Float32Array.from(job.beta)
      res.set({ 'content-type': 'application/octet-stream', 'content-disposition': `attachment; filename="${job.id}-beta.f32"` })
      res.send(Buffer.from(f.buffer))
      return
    }
    res.set({ 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${job.id}-beta.csv"` })
    res.send(betaCsv(job))
  })
  app.get('/api/jobs/:id/model', (req, res) => {
    const job = jobOr404(req, res)
    if (!job) return
    if (req.query.clock !== undefined) {
      modelAtClock(job, String(req.query.clock), req, res)
      return
    }
    sendArena(res, job, job.replica.params, job.replica.frontier + 1, `${job.id}-model.f32`)
  })
  /** The model as it was at a past clock, rebuilt from the data directory (operator only: it reads the store). */
  const modelAtClock = (job: JobCore, raw: string, req: Request, res: Response) => {
    if (!operator(req, res)) return
    const clock = Number(raw)
    if (!Number.isInteger(clock) || clock < 0) {
      res.status(400).json(reject('ERR_BAD_MESSAGE', `clock: a whole number ≥ 0, got ${raw}`))
      return
    }
    let params: Float32Array
    try {
      params = store.modelAt(job, clock)
    } catch (e) {
      historyError(e, res)
      return
    }
    sendArena(res, job, params, clock, `${job.id}-model-at-${clock}.f32`)
  }
  // A new job from a job's model at a past clock: the operator's way back to a good model.
  app.post('/api/jobs/:id/rollback', async (req, res) => {
    if (!operator(req, res)) return
    const job = jobOr404(req, res)
    if (!job) return
    const clock = (req.body as { clock?: unknown } | undefined)?.clock
    if (typeof clock !== 'number' || !Number.isInteger(clock) || clock < 0) {
      res.status(400).json(reject('ERR_BAD_MESSAGE', 'clock: a whole number ≥ 0'))
      return
    }
    try {
      const next = await store.rollback(job, clock)
      log.info({ job: next.id, from: job.id, clock }, 'job started from a past model')
      res.status(201).json({ ...next.summary(), from: { job: job.id, clock } })
    } catch (e) {
      historyError(e, res)
    }
  })
  // The TF.js Layers format: tf.loadLayersModel('<coordinator>/api/jobs/ID/export/model.json') loads it as it is.
  const exports = new WeakMap<JobCore, { clock: number; modelJson: unknown; weights: Uint8Array }>()
  const exportOf = (job: JobCore) => {
    const clock = job.replica.frontier + 1
    let e = exports.get(job)
    if (!e || e.clock !== clock) {
      const { modelJson, weights } = toTfjsModel(job.plan, job.replica.params, { weightsPath: `weights.bin?clock=${clock}`, metadata: exportMetadata(job) })
      exports.set(job, (e = { clock, modelJson, weights }))
    }
    return e
  }
  app.get('/api/jobs/:id/export/model.json', (req, res) => {
    const job = jobOr404(req, res)
    if (!job) return
    const e = exportOf(job)
    res.set({ 'x-tabgrid-clock': String(e.clock), 'cache-control': 'no-store' })
    if (req.query.download !== undefined) res.attachment(`${job.id}-model.json`)
    res.json(e.modelJson)
  })
  app.get('/api/jobs/:id/export/weights.bin', (req, res) => {
    const job = jobOr404(req, res)
    if (!job) return
    const e = exportOf(job)
    if (req.query.clock !== undefined && Number(req.query.clock) !== e.clock) {
      res.status(409).json(reject('ERR_MODEL_MOVED', `the model moved on from clock ${req.query.clock} to ${e.clock}: fetch model.json again`))
      return
    }
    res.set({ 'content-type': 'application/octet-stream', 'x-tabgrid-clock': String(e.clock), 'cache-control': 'no-store' })
    if (req.query.download !== undefined) res.attachment(`${job.id}-weights.bin`)
    res.send(Buffer.from(e.weights.buffer, e.weights.byteOffset, e.weights.byteLength))
  })
  app.get('/api/jobs/:id/shards/:shard', (req, res) => {
    const job = store.get(req.params.id)
    const bytes = job?.shardBytes(Number(req.params.shard))
    if (!bytes) {
      res.status(404).json(reject('ERR_UNKNOWN_JOB', `no shard ${req.params.shard} in job ${req.params.id}`))
      return
    }
    res.set({ 'content-type': 'application/octet-stream', 'cache-control': 'public, max-age=3600, immutable' })
    res.send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength))
  })
  // The pages' assets last: a static lookup stats the disk, which every shard request paid before (3 % of the
  // coordinator's CPU at 1,000 workers).
  app.use(express.static(clientDir, { index: false }))
  return app
}

/**
 * β as CSV: a row per feature (its name, or x<j>) with the coefficient on the standardised feature and on the raw
 * scale, then the intercept on the raw scale (where the data kept its scaling; the built-in generator's is already
 * standard).
 */
export function betaCsv(job: LassoJob): string {
  const { data, beta } = job
  const sc = data.scaling
  const name = (j: number) => {
    const f = data.features?.[j] ?? `x${j}`
    return /[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f
  }
  const lines = ['feature,beta,beta_raw']
  let intercept = sc?.yMean ?? 0
  for (let j = 0; j < beta.length; j++) {
    const raw = sc ? (sc.xNorm[j] > 0 ? beta[j] / sc.xNorm[j] : 0) : beta[j]
    if (sc) intercept -= sc.xMean[j] * raw
    lines.push(`${name(j)},${beta[j]},${raw}`)
  }
  lines.push(`(intercept),0,${intercept}`)
  return lines.join('\n') + '\n'
}

/** A model as the raw arena: little-endian f32, its layout and clock in headers, as a download. */
function sendArena(res: Response, job: JobCore, params: Float32Array, clock: number, filename: string): void {
  res.set({
    'content-type': 'application/octet-stream',
    'x-tabgrid-layout': `f32le arena of ${job.plan.size} parameters, tensors as GET /api/jobs/${job.id} lists them`,
    'x-tabgrid-clock': String(clock),
    'content-disposition': `attachment; filename="${filename}"`,
  })
  res.send(Buffer.from(params.buffer, params.byteOffset, params.byteLength))
}

/** A history request the store cannot answer: 409 without a data directory, 410 for a pruned clock, 400 past the model. */
function historyError(e: unknown, res: Response): void {
  if (e instanceof NoHistoryError) res.status(409).json(reject('ERR_LOG_TRUNCATED', e.message))
  else if (e instanceof ClockAheadError) res.status(400).json(reject('ERR_BAD_MESSAGE', e.message))
  else if (e instanceof RangeError) res.status(410).json(reject('ERR_LOG_TRUNCATED', e.message))
  else throw e
}

/** What a user of the exported model needs besides the weights: how inputs were scaled, the class names, the job. */
export function exportMetadata(job: JobCore): Record<string, unknown> {
  return {
    tabgrid: {
      job: job.id,
      clock: job.replica.frontier + 1,
      dataset: job.info.dataset.name,
      labels: job.data.labels,
      preprocessing: job.data.preprocessing ?? { kind: 'none' },
      testAccuracy: job.curve.last?.testAccuracy ?? null,
    },
  }
}
