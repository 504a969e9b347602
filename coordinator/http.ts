// The HTTP side: the two pages, the JSON API under /api, and shards and models as binary.
import express, { type Request, type Response } from 'express'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import type { Logger } from 'pino'
import { reject } from '../protocol/errors.ts'
import { CreateJobSchema } from '../protocol/job.ts'
import type { JobCore } from './core/job.ts'
import type { JobStore } from './store.ts'

export interface HttpOptions {
  store: JobStore
  clientDir: string
  operatorToken: string
  log: Logger
}

/** Everything GET /api/jobs/:id shows: the summary, live workers, the curve and the ledger's proof. */
export function jobDetail(job: JobCore) {
  const clocks = job.ssp.clocks()
  return {
    ...job.summary(),
    info: job.jobInfo(),
    bytes: job.bytes,
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
    })),
    curve: job.curve,
    ledger: job.ledger.report(),
    returned: job.returned,
    startedAt: job.startedAt,
    finishedAt: job.finishedAt,
  }
}

export function createApp({ store, clientDir, operatorToken, log }: HttpOptions): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(express.json({ limit: '64kb' }))

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
  app.use(express.static(clientDir, { index: false }))

  app.get('/api/health', (_req, res) => {
    res.json({ ok: true, jobs: store.jobs.size })
  })
  app.get('/api/jobs', (_req, res) => {
    res.json([...store.jobs.values()].map((j) => j.summary()))
  })
  app.post('/api/jobs', async (req, res) => {
    if (req.get('authorization') !== `Bearer ${operatorToken}`) {
      res.status(401).json(reject('ERR_UNAUTHORIZED'))
      return
    }
    const parsed = CreateJobSchema.safeParse(req.body ?? {})
    if (!parsed.success) {
      const i = parsed.error.issues[0]
      res.status(400).json(reject('ERR_BAD_MESSAGE', `${i.path.join('.') || 'body'}: ${i.message}`))
      return
    }
    try {
      const job = await store.create(parsed.data)
      log.info({ job: job.id, data: parsed.data.data }, 'job created')
      res.status(201).json(job.summary())
    } catch (e) {
      res.status(400).json(reject('ERR_BAD_MESSAGE', (e as Error).message))
    }
  })
  app.get('/api/jobs/:id', (req, res) => {
    const job = store.get(req.params.id)
    if (!job) {
      res.status(404).json(reject('ERR_UNKNOWN_JOB', `no job ${req.params.id}`))
      return
    }
    res.json(jobDetail(job))
  })
  app.get('/api/jobs/:id/model', (req, res) => {
    const job = store.get(req.params.id)
    if (!job) {
      res.status(404).json(reject('ERR_UNKNOWN_JOB', `no job ${req.params.id}`))
      return
    }
    const { K, J } = job.info.dims
    res.set({
      'content-type': 'application/octet-stream',
      'x-tabgrid-layout': `f32le W[${K}x${J}] row-major, then b[${K}]`,
      'x-tabgrid-clock': String(job.replica.frontier + 1),
      'content-disposition': `attachment; filename="${job.id}-model.f32"`,
    })
    res.send(Buffer.from(job.modelBytes()))
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
  return app
}
