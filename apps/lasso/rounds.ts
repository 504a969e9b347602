// Parallel coordinate-descent rounds for the Lasso (issue 9): every picked coordinate reads the same residual, then all
// updates land at once — what a round of model-parallel workers does, without the network.
import { dot, objective as objectiveOf } from './objective.ts'
import type { Scheduler } from './scheduler.ts'
import { coordinateDeltas, residualChange } from './step.ts'
import { column, type RegressionData } from './types.ts'

export interface RoundOptions {
  /** Workers per round. */
  workers: number
  /** Coordinates each worker updates per round. Default 1. */
  perWorker?: number
  /** Stop after this many rounds. */
  maxRounds: number
  /** Stop as soon as the objective is ≤ target. */
  target?: number
  /**
   * Stop once every one of the p coordinates has been updated, and none moved by more than `tolerance` (absolute),
   * since the last move larger than that: for the sequential scheduler, one whole cycle without change. Default 1e-9.
   */
  tolerance?: number
  /** Record the objective every this many rounds (and after the last). Default 1. */
  historyEvery?: number
  /** Diverged: the objective is above this multiple of the starting ½‖y‖², or not finite. Default 100. */
  divergeAbove?: number
}

export type StopReason = 'target' | 'quiet' | 'maxRounds' | 'diverged'

export interface RoundResult {
  beta: Float64Array
  /** Rounds run. */
  rounds: number
  /** The objective of `beta`, from a freshly computed residual. */
  objective: number
  /** history[i]: the objective after round (i + 1) · historyEvery, and the last round's at the end. */
  history: number[]
  /** The objective came down to `target`. */
  reached: boolean
  stop: StopReason
  /** Coordinate updates computed (picks over all rounds). */
  updates: number
}

/**
 * Jacobi-style parallel coordinate descent from β = 0 on min ½‖y − Xβ‖² + λ‖β‖₁: each round the scheduler
 * picks workers × perWorker coordinates, each computes βⱼ' = S(xⱼᵀr + ‖xⱼ‖²βⱼ, λ) / ‖xⱼ‖² from the round's
 * residual r, then every Δβⱼ is applied to β and r (r −= xⱼΔβⱼ) and reported to `scheduler.observe`. β and r are
 * float64; the objective is tracked incrementally and recomputed from scratch for the result.
 *
 * @example
 * const run = runRounds(data, 0.1 * lambdaMax(data), makeScheduler('sap', data), { workers: 8, maxRounds: 5000 })
 * run.objective // ½‖y − Xβ‖² + λ‖β‖₁ after run.rounds rounds
 */
export function runRounds(d: RegressionData, lambda: number, scheduler: Scheduler, opts: RoundOptions): RoundResult {
  const { n, p } = d
  const perRound = Math.max(1, opts.workers * (opts.perWorker ?? 1))
  const tolerance = opts.tolerance ?? 1e-9
  const every = Math.max(1, opts.historyEvery ?? 1)
  const sq = new Float64Array(p)
  let nonEmpty = 0
  for (let j = 0; j < p; j++) {
    const xj = column(d, j)
    sq[j] = dot(xj, xj)
    if (sq[j] > 0) nonEmpty++
  }
  const beta = new Float64Array(p)
  const r = Float64Array.from(d.y)
  const start = dot(r, r) / 2
  const ceiling = (opts.divergeAbove ?? 100) * start
  const seen = new Int32Array(p).fill(-1)
  const checked = new Int32Array(p).fill(-1) // checked[j] === since: j was updated and stood still since the last move
  let since = 0
  let still = 0
  let l1 = 0
  let objective = start
  let updates = 0
  let rounds = 0
  let stop: StopReason = 'maxRounds'
  const history: number[] = []
  const js: number[] = []
  const block = { n, cols: p, x: d.x }

  if (opts.target !== undefined && objective <= opts.target) stop = 'target'
  while (stop === 'maxRounds' && rounds < opts.maxRounds) {
    js.length = 0
    for (const j of scheduler.pick(rounds, perRound)) {
      if (seen[j] === rounds || sq[j] === 0) continue // a repeat, or an all-zero column
      seen[j] = rounds
      js.push(j)
    }
    updates += js.length
    // every pick reads the same residual (β updated in place), then the round's residual change lands at once
    const deltas = coordinateDeltas(block, r, js, beta, lambda, sq)
    residualChange(block, js, deltas, r)
    let moved = 0
    for (let i = 0; i < js.length; i++) {
      const j = js[i]
      const delta = deltas[i]
      if (delta !== 0) {
        l1 += Math.abs(beta[j]) - Math.abs(beta[j] - delta)
        moved = Math.max(moved, Math.abs(delta))
      }
      scheduler.observe(j, delta)
    }
    if (moved > tolerance) {
      since++
      still = 0
    }
    for (let i = 0; i < js.length; i++) {
      const j = js[i]
      if (Math.abs(deltas[i]) <= tolerance && checked[j] !== since) {
        checked[j] = since
        still++
      }
    }
    rounds++
    if (moved > 0) objective = dot(r, r) / 2 + lambda * l1
    if (rounds % every === 0) history.push(objective)
    if (!Number.isFinite(objective) || objective > ceiling) stop = 'diverged'
    else if (opts.target !== undefined && objective <= opts.target) stop = 'target'
    else if (still >= nonEmpty) stop = 'quiet'
  }
  if (rounds % every !== 0) history.push(objective)
  const exact = objectiveOf(d, beta, lambda)
  const reached = stop === 'target' || (opts.target !== undefined && exact <= opts.target)
  return { beta, rounds, objective: exact, history, reached, stop, updates }
}
