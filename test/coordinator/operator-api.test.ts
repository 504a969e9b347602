// The operator's API: sign-in, the data catalog, uploads under a size limit, pause/resume/cancel, the curve as CSV;
// every control refused without the token.
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import type { JobSummary } from '../../protocol/job.ts'
import type { LassoSummary } from '../../protocol/lasso.ts'
import type { DataCatalog as Catalog, UploadView } from '../../protocol/operator.ts'
import { randomIdxSet, tempDir, writeIdxSet } from '../data/fixtures.ts'
import { mulberry32 } from '../helpers/random.ts'

const TOKEN = 'op-secret'
const MAX_UPLOAD = 64 * 1024
let srv: RunningServer
const auth = { authorization: `Bearer ${TOKEN}` }

/** A CSV with a header, the label first: two classes split by the sign of a + b. */
function csv(rows: number): string {
  const rand = mulberry32(7)
  const lines = ['label,a,b,c']
  for (let i = 0; i < rows; i++) {
    const [a, b, c] = [rand() * 2 - 1, rand() * 2 - 1, rand() * 2 - 1]
    lines.push(`${a + b > 0 ? 'up' : 'down'},${a.toFixed(4)},${b.toFixed(4)},${c.toFixed(4)}`)
  }
  return lines.join('\n') + '\n'
}

async function call(method: string, path: string, opts: { body?: BodyInit; json?: unknown; token?: string | null } = {}) {
  const headers: Record<string, string> = {}
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`
  if (opts.json !== undefined) headers['content-type'] = 'application/json'
  const r = await fetch(`${srv.url}${path}`, { method, headers, body: opts.json !== undefined ? JSON.stringify(opts.json) : opts.body })
  const text = await r.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // CSV or text: kept as it came
  }
  return { status: r.status, body: body as Record<string, unknown> }
}

beforeAll(async () => {
  srv = await startServer({ port: 0, operatorToken: TOKEN, maxUploadBytes: MAX_UPLOAD, log: pino({ level: 'silent' }) })
})
afterAll(async () => {
  await srv.close()
})

describe('without the operator token', () => {
  it('every control, upload and listing answers 401 ERR_UNAUTHORIZED and changes nothing', async () => {
    const job = await srv.store.create({ data: 'builtin', trainLimit: 200 })
    for (const token of [null, 'wrong']) {
      const tries = [
        call('GET', '/api/operator', { token }),
        call('GET', '/api/data', { token }),
        call('POST', '/api/uploads?name=x.csv', { token, body: 'a,b\n1,2\n' }),
        call('POST', '/api/jobs', { token, json: { data: 'builtin' } }),
        ...(['pause', 'resume', 'cancel'] as const).map((a) => call('POST', `/api/jobs/${job.id}/${a}`, { token })),
      ]
      for (const r of await Promise.all(tries)) expect(r).toMatchObject({ status: 401, body: { ok: false, code: 'ERR_UNAUTHORIZED' } })
    }
    expect(job.state).toBe('pending')
    expect(srv.store.all()).toHaveLength(1)
    expect(await readdir(srv.dataRoots.dirs.at(-1)!)).toEqual([])
    // reading stays open: the console's read-only view and the volunteer page
    expect((await call('GET', `/api/jobs/${job.id}`, { token: null })).status).toBe(200)
    expect(await call('GET', '/api/operator')).toEqual({ status: 200, body: { ok: true } })
  })
})

describe('uploads and the data catalog', () => {
  it('a CSV upload gives a data spec a job can be made from, and the catalog lists it', async () => {
    const up = await call('POST', '/api/uploads?name=points.csv', { body: csv(300) })
    expect(up.status).toBe(201)
    const u = up.body as unknown as UploadView
    expect(u.files).toEqual(['points.csv'])
    expect(u.spec).toMatch(/^csv:.*\/u-[0-9a-f]{8}\/points\.csv$/)
    expect(u.bytes).toBe(Buffer.byteLength(csv(300)))
    const made = await call('POST', '/api/jobs', { json: { data: u.spec, model: 'mlr', hyper: { epochs: 1 } } })
    expect(made.status).toBe(201)
    expect((made.body as unknown as JobSummary).dataset).toMatchObject({ features: 3, classes: 2 })
    const catalog = (await call('GET', '/api/data')).body as unknown as Catalog
    expect(catalog.maxUploadBytes).toBe(MAX_UPLOAD)
    expect(catalog.builtin.map((b) => b.spec)).toContain('builtin')
    expect(catalog.files).toContainEqual({ spec: u.spec, app: 'both', path: u.spec.slice(4), bytes: u.bytes })
  })

  it('IDX files go into one upload (into=ID) and make an idx: spec', async () => {
    const from = await tempDir()
    await writeIdxSet(from, randomIdxSet(mulberry32(3), 6, 3), { gzip: true })
    let id: string | undefined
    let last: UploadView | undefined
    for (const name of (await readdir(from)).sort()) {
      const r = await call('POST', `/api/uploads?name=${name}${id ? `&into=${id}` : ''}`, { body: await readFile(join(from, name)) })
      expect(r.status).toBe(201)
      last = r.body as unknown as UploadView
      id ??= last.id
      expect(last.id).toBe(id)
    }
    expect(last!.files).toHaveLength(4)
    expect(last!.spec).toMatch(/^idx:.*\/u-[0-9a-f]{8}$/)
    const made = await call('POST', '/api/jobs', { json: { data: last!.spec, hyper: { epochs: 1 } } })
    expect(made.status).toBe(201)
    const catalog = (await call('GET', '/api/data')).body as unknown as Catalog
    expect(catalog.files.filter((f) => f.spec === last!.spec)).toHaveLength(1)
  })

  it('refuses an upload over the limit (413, nothing kept), a bad name (400) and an unknown upload id (404)', async () => {
    const dir = srv.dataRoots.dirs.at(-1)!
    const before = await readdir(dir)
    const big = await call('POST', '/api/uploads?name=big.csv', { body: 'x'.repeat(MAX_UPLOAD + 1) })
    expect(big).toMatchObject({ status: 413, body: { ok: false, code: 'ERR_TOO_LARGE' } })
    expect(await readdir(dir)).toEqual(before)
    for (const name of ['../../etc/passwd.csv', '.hidden.csv', 'notes.txt', '']) {
      expect(await call('POST', `/api/uploads?name=${encodeURIComponent(name)}`, { body: 'a\n' })).toMatchObject({ status: 400, body: { code: 'ERR_BAD_MESSAGE' } })
    }
    expect(await call('POST', '/api/uploads?name=a.csv&into=u-00000000', { body: 'a\n' })).toMatchObject({ status: 404 })
    expect(await call('POST', '/api/uploads?name=a.csv&into=../x', { body: 'a\n' })).toMatchObject({ status: 404 })
    expect(await readdir(dir)).toEqual(before)
  })
})

describe('controls', () => {
  it('pause, resume and cancel an SGD job; an ended job refuses them with 409, an unknown one 404', async () => {
    const job = await srv.store.create({ data: 'builtin', trainLimit: 200 })
    const pause = await call('POST', `/api/jobs/${job.id}/pause`)
    expect(pause).toMatchObject({ status: 200, body: { id: job.id, state: 'paused', reason: 'paused by the operator' } })
    expect((await call('POST', `/api/jobs/${job.id}/resume`)).body).toMatchObject({ state: 'pending', reason: null })
    expect((await call('POST', `/api/jobs/${job.id}/cancel`)).body).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
    for (const a of ['pause', 'resume', 'cancel']) {
      expect(await call('POST', `/api/jobs/${job.id}/${a}`)).toMatchObject({ status: 409, body: { ok: false, code: 'ERR_JOB_CLOSED' } })
    }
    expect(await call('POST', '/api/jobs/j-nope/pause')).toMatchObject({ status: 404, body: { code: 'ERR_UNKNOWN_JOB' } })
    // the list shows why
    const list = (await call('GET', '/api/jobs')).body as unknown as JobSummary[]
    expect(list.find((j) => j.id === job.id)).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
  })

  it('a Lasso job takes the same controls', async () => {
    const made = await call('POST', '/api/jobs', { json: { app: 'lasso', data: 'correlated:50x40', hyper: { blockColumns: 10 } } })
    const id = (made.body as unknown as LassoSummary).id
    expect((await call('POST', `/api/jobs/${id}/pause`)).body).toMatchObject({ app: 'lasso', state: 'paused', reason: 'paused by the operator' })
    expect((await call('POST', `/api/jobs/${id}/cancel`)).body).toMatchObject({ state: 'failed', reason: 'cancelled by the operator' })
    expect((await call('POST', `/api/jobs/${id}/resume`)).status).toBe(409)
  })

  it('the curve as CSV: a header and a row per evaluation', async () => {
    const job = await srv.store.create({ data: 'builtin', trainLimit: 200 })
    await job.settled()
    const r = await call('GET', `/api/jobs/${job.id}/curve.csv`, { token: null })
    const lines = String(r.body).trimEnd().split('\n')
    expect(lines[0]).toBe('t_ms,seconds,clock,test_samples,test_accuracy,test_loss')
    expect(lines).toHaveLength(1 + job.curve.points.length)
    const [, seconds, clock, samples, acc] = lines[1].split(',').map(Number)
    expect([seconds, clock]).toEqual([0, 0])
    // the first evaluation is on the whole test split
    expect(samples).toBe(job.data.test.n)
    expect(acc).toBe(job.curve.points[0].testAccuracy)
    expect((await call('GET', '/api/jobs/j-nope/curve.csv')).status).toBe(404)
    // what volunteers' pages poll: the summary and the curve, no worker lists
    const glance = (await call('GET', `/api/jobs/${job.id}/glance`, { token: null })).body
    expect(glance).toMatchObject({ app: 'sgd', id: job.id, samples: 0, startedAt: null, curve: job.curve.points })
    expect(glance).not.toHaveProperty('workersList')
    expect((await call('GET', '/api/jobs/j-nope/glance')).status).toBe(404)
  })
})
