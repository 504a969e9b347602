// `tabgrid run --app lasso`: a coordinator on a free port, N headless Chromium volunteer tabs, one Lasso job run to
// convergence, and its figures (objective, nonzeros, rounds) with, optionally, β written as CSV.
import { writeFileSync } from 'node:fs'
import type { CreateLassoJob, LassoSummary } from '../protocol/lasso.ts'
import type { LassoJob } from './core/lasso-job.ts'
import { betaCsv } from './http.ts'
import { openTabs, tabEnded, waitDone, withCoordinator, type RunOptions } from './run.ts'

export interface LassoRunOptions extends Omit<RunOptions, 'job' | 'save'> {
  job: Partial<CreateLassoJob>
  /** Write β there as CSV (feature, beta, beta_raw, and the intercept). */
  save?: string
}

/** The job's figures as its summary has them (rounds, updates, objective, initialObjective, nonzeros, stop), and the run's. */
export interface LassoRunResult extends Pick<LassoSummary, 'rounds' | 'updates' | 'objective' | 'initialObjective' | 'nonzeros' | 'stop'> {
  app: 'lasso'
  job: string
  dataset: string
  n: number
  p: number
  lambda: number
  scheduler: string
  picks: number
  staleness: number
  workers: number
  /** The objective after every curve point: [round, objective]. */
  curve: Array<[number, number]>
  /** Per tab: its engine and the tasks it answered. */
  tabs: Array<{ engine: string; tasks: number; updates: number }>
  wallSeconds: number
  trainSeconds: number
  roundsPerSecond: number
  /** Residual bytes the coordinator sent (round changes and refreshes). */
  bytes: number
  defence: { rejected: Partial<Record<string, number>>; quarantines: number; verified: number }
  saved?: string
}

export async function runLassoJob(o: LassoRunOptions): Promise<LassoRunResult> {
  const t0 = performance.now()
  return withCoordinator(o, async (srv, launch) => {
    const job = await srv.store.createLasso({ ...o.job, hyper: { ...(o.job.hyper ?? {}), minWorkers: o.workers } as CreateLassoJob['hyper'] })
    const { hyper, dataset, lambda, blocks } = job.info
    o.progress(
      `job ${job.id}: Lasso on ${dataset.name} (${dataset.n} samples × ${dataset.p} features, ${blocks.count} blocks of ${blocks.columns}), ` +
        `λ = ${lambda.toPrecision(4)}, ${hyper.scheduler}, ${hyper.picks} picks a worker, s=${hyper.staleness}, ${o.workers} tabs`,
    )
    const pages = await openTabs(await launch(), `${srv.url}/?job=${job.id}`, o)
    await waitDone(job, o, () => progressLine(job, o.workers), () => `${job.completed + 1} rounds`)
    const tabs = await Promise.all(
      pages.map(async (page) => {
        await tabEnded(page)
        return page.evaluate(() => {
          const t = (globalThis as unknown as { tabgrid: { worker: { lasso: { kind: string } | null }; status(): { lasso: { tasks: number; updates: number } | null } } }).tabgrid
          const s = t.status()
          return { engine: t.worker.lasso?.kind ?? 'none', tasks: s.lasso?.tasks ?? 0, updates: s.lasso?.updates ?? 0 }
        })
      }),
    )
    const d = job.detail()
    const trainSeconds = ((job.finishedAt ?? Date.now()) - (job.startedAt ?? Date.now())) / 1000
    let saved: string | undefined
    if (o.save) {
      writeFileSync(o.save, betaCsv(job))
      saved = o.save
    }
    return {
      app: 'lasso',
      job: job.id,
      dataset: dataset.name,
      n: dataset.n,
      p: dataset.p,
      lambda,
      scheduler: hyper.scheduler,
      picks: hyper.picks,
      staleness: hyper.staleness,
      workers: o.workers,
      rounds: d.rounds,
      updates: d.updates,
      objective: d.objective,
      initialObjective: d.initialObjective,
      nonzeros: d.nonzeros,
      stop: d.stop,
      curve: d.curve.map((c) => [c.round, c.objective]),
      tabs,
      wallSeconds: (performance.now() - t0) / 1000,
      trainSeconds,
      roundsPerSecond: trainSeconds > 0 ? d.rounds / trainSeconds : 0,
      bytes: d.bytes.coordinator,
      defence: { rejected: d.defence.rejected, quarantines: d.defence.quarantines, verified: d.defence.verified },
      ...(saved ? { saved } : {}),
    }
  })
}

/** The progress line of a Lasso job. */
function progressLine(job: LassoJob, workers: number): string {
  const s = job.summary()
  return (
    `${s.state.padEnd(7)} workers ${s.workers}/${workers}  round ${s.rounds}  objective ${s.objective.toPrecision(7)} ` +
    `(${((100 * s.objective) / s.initialObjective).toFixed(2)} % of ½‖y‖²)  nonzeros ${s.nonzeros}  blocks ${s.blocks.held}/${s.blocks.count}`
  )
}
