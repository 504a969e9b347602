// `tabgrid worker` in-process against a real coordinator: a job to the end (CPU engine, and WGSL on Dawn), waiting
// for a job that does not exist yet, leaving on SIGINT, and the engine `auto` picks on a software adapter.
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import type { JobCore } from '../../coordinator/core/job.ts'
import { startServer, type RunningServer } from '../../coordinator/server.ts'
import { maxAbsDiff } from '../../model/params.ts'
import type { CreateJob, Hyper } from '../../protocol/job.ts'
import { runWorker } from '../../worker/main.ts'
import type { WorkerOptions } from '../../worker/options.ts'

let srv: RunningServer | undefined
afterEach(async () => {
  await srv?.close()
  srv = undefined
})

/** Softmax regression on 256 samples at B=16: 16 clocks, a second or two on the CPU. */
const tiny: Partial<CreateJob> = { data: 'builtin', model: 'mlr', trainLimit: 256 }
const hyper: Partial<Hyper> = { epochs: 1, batch: 16, shardSize: 64, minWorkers: 1, staleness: 1 }

async function coordinator(): Promise<RunningServer> {
  srv = await startServer({ port: 0, log: pino({ level: 'silent' }) })
  return srv
}

function createJob(s: RunningServer, h: Partial<Hyper> = hyper): Promise<JobCore> {
  return s.store.create({ ...tiny, hyper: h as Hyper })
}

/** Runs the worker, collecting its stdout (JSON lines with --json) and stderr lines. */
function start(opts: Omit<WorkerOptions, 'engine'> & { engine?: WorkerOptions['engine'] }, signal?: AbortSignal) {
  const out: string[] = []
  const err: string[] = []
  const code = runWorker({ engine: 'cpu', statusEverySec: 0.5, ...opts }, { out: (l) => out.push(l), err: (l) => err.push(l) }, signal)
  return { code, out, err, json: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) }
}

const dawnLoads = await import('webgpu').then(
  () => true,
  () => false,
)

describe('tabgrid worker', { timeout: 60_000 }, () => {
  it('--job --once: trains the job to the end, saves the model the coordinator holds, prints JSON lines, exits 0', async () => {
    const s = await coordinator()
    const job = await createJob(s)
    const file = join(mkdtempSync(join(tmpdir(), 'tabgrid-worker-')), '{job}.f32')
    const w = start({ server: s.url, job: job.id, once: true, json: true, saveModel: file })
    expect(await w.code).toBe(0)
    expect(job.state).toBe('done')
    expect(job.ledger.report()[0]).toMatchObject({ processed: 4, missing: [] })
    const saved = readFileSync(file.replace('{job}', job.id))
    const model = new Float32Array(saved.buffer, saved.byteOffset, saved.byteLength / 4)
    expect(model.length).toBe(job.plan.size)
    expect(maxAbsDiff(model, job.replica.params)).toBeLessThan(1e-5)
    const lines = w.json()
    const end = lines.find((l) => l.type === 'end')
    expect(end).toMatchObject({ job: job.id, outcome: 'done', clocks: 16, samples: 256, engine: 'cpu', params: job.plan.size })
    expect(lines.at(-1)).toEqual({ type: 'exit', code: 0, jobs: 1 })
    expect(w.err.join('\n')).toContain('engine: CPU (asked for by --engine cpu)')
    expect(w.err.join('\n')).toMatch(new RegExp(`joined job ${job.id} .* no WebRTC`))
    await expect.poll(() => job.members.size).toBe(0) // a finished worker hangs up
  })

  it('on the bare URL with --once: waits for a job that does not exist yet, joins it when it is made, then leaves', async () => {
    const s = await coordinator()
    const w = start({ server: s.url, once: true })
    await expect.poll(() => w.err.join('\n'), { timeout: 10_000 }).toContain('no job is taking workers')
    const job = await createJob(s)
    expect(await w.code).toBe(0)
    expect(job.state).toBe('done')
    expect(w.err.filter((l) => l.includes('no job is taking workers'))).toHaveLength(1) // said once, not every 5 s
    expect(w.err.join('\n')).toMatch(new RegExp(`job ${job.id} done: worker \\S+, 16 clocks, 256 samples`))
  })

  it('leaves cleanly when interrupted: exit 0, no member left behind, its shard back in the pool', async () => {
    const s = await coordinator()
    // two workers wanted: the lone worker waits at the start line until it is interrupted
    const job = await createJob(s, { ...hyper, minWorkers: 2 })
    const ac = new AbortController()
    const w = start({ server: s.url, job: job.id, json: true }, ac.signal)
    await expect.poll(() => job.members.size, { timeout: 10_000 }).toBe(1)
    ac.abort()
    expect(await w.code).toBe(0)
    await expect.poll(() => job.members.size).toBe(0)
    expect(w.json().find((l) => l.type === 'end')).toMatchObject({ outcome: 'left' })
  })

  it('with --job for a job that does not exist: exits 1 with ERR_UNKNOWN_JOB', async () => {
    const s = await coordinator()
    const w = start({ server: s.url, job: 'nope', json: true })
    expect(await w.code).toBe(1)
    expect(w.err.at(-1)).toMatch(/^tabgrid worker: ERR_UNKNOWN_JOB/)
    expect(w.json().at(-1)).toMatchObject({ type: 'exit', code: 1, error: { code: 'ERR_UNKNOWN_JOB' } })
  })

  it.skipIf(!dawnLoads)('--engine auto on a software adapter (SwiftShader here) trains with the CPU kernels, and says why', async () => {
    const s = await coordinator()
    const job = await createJob(s)
    const w = start({ server: s.url, job: job.id, once: true, engine: 'auto' })
    expect(await w.code).toBe(0)
    const err = w.err.join('\n')
    expect(err).toMatch(/adapter: .*swiftshader/i)
    expect(err).toContain('engine: CPU (the WebGPU adapter is a software one, on which the CPU kernels are faster; --engine webgpu to use it anyway)')
    expect(job.state).toBe('done')
  })

  it.skipIf(!dawnLoads)('--engine webgpu runs the WGSL kernels on Dawn and ends with the coordinator’s model', async () => {
    const s = await coordinator()
    // 64 samples: WGSL on SwiftShader is slow
    const job = await s.store.create({ ...tiny, trainLimit: 64, hyper: { ...hyper, shardSize: 32 } as Hyper })
    const file = join(mkdtempSync(join(tmpdir(), 'tabgrid-worker-')), 'model.f32')
    const w = start({ server: s.url, job: job.id, once: true, engine: 'webgpu', json: true, saveModel: file })
    expect(await w.code).toBe(0)
    expect(w.err.join('\n')).toContain('engine: WebGPU (asked for by --engine webgpu)')
    expect(w.json().find((l) => l.type === 'end')).toMatchObject({ outcome: 'done', engine: 'webgpu', clocks: 4 })
    const saved = readFileSync(file)
    expect(maxAbsDiff(new Float32Array(saved.buffer, saved.byteOffset, saved.byteLength / 4), job.replica.params)).toBeLessThan(1e-5)
    await expect.poll(() => job.members.size).toBe(0)
  })
})
