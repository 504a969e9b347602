// A job's curve as CSV, for the console's download: SGD's test evaluations, Lasso's objective over rounds.
import type { JobCore } from '../core/job.ts'
import type { LassoJob } from '../core/lasso-job.ts'

/**
 * One row per point, times as ms since the epoch and seconds since the first point.
 * SGD: `t_ms,seconds,clock,test_samples,test_accuracy,test_loss` (test_samples: the evaluation's test rows); Lasso: `t_ms,seconds,round,objective,nonzeros,updates`.
 */
export function curveCsv(job: JobCore | LassoJob): string {
  if (job.app === 'lasso') {
    const t0 = job.curve[0]?.t ?? 0
    const rows = job.curve.map((p) => [p.t, ((p.t - t0) / 1000).toFixed(3), p.round, p.objective, p.nonzeros, p.updates].join(','))
    return ['t_ms,seconds,round,objective,nonzeros,updates', ...rows].join('\n') + '\n'
  }
  const points = job.curve.points
  const t0 = points[0]?.t ?? 0
  const rows = points.map((p) => [p.t, ((p.t - t0) / 1000).toFixed(3), p.clock, p.samples, p.testAccuracy, p.testLoss].join(','))
  return ['t_ms,seconds,clock,test_samples,test_accuracy,test_loss', ...rows].join('\n') + '\n'
}
