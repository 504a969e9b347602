// The job's test curve: evaluations of the replica run off the socket path (an injected evaluator, a worker-thread
// pool in the coordinator), at most one at a time and no more often than a duty cycle allows.
import { evaluate } from '../../model/network.ts'
import type { ModelPlan } from '../../model/plan.ts'
import type { Split } from '../data/types.ts'

export interface EvalResult {
  loss: number
  accuracy: number
}

/** Evaluates a copy of the arena on the job's test split. */
export type Evaluator = (params: Float32Array) => Promise<EvalResult>

export interface CurvePoint {
  t: number
  clock: number
  testAccuracy: number
  testLoss: number
}

/** Evaluate at most this often… */
const MIN_INTERVAL_MS = 500
/** …and leave the evaluator idle this many times as long as the last evaluation took (≤ 20 % of one core). */
const IDLE_FACTOR = 4

/** The reference evaluation in this thread: for tests and small jobs. */
export function inlineEvaluator(plan: ModelPlan, test: Split): Evaluator {
  return async (params) => evaluate(plan, params, test.x, test.y, test.n)
}

export class TestCurve {
  readonly points: CurvePoint[] = []
  private busy: Promise<void> | null = null
  private lastStart = -Infinity
  private lastCost = 0
  /** A forced evaluation asked for while one was running. */
  private queued: { params: Float32Array; clock: number } | null = null
  private failed: string | null = null

  constructor(
    private readonly evaluator: Evaluator,
    private readonly now: () => number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  /** The newest point and the best accuracy seen. */
  get last(): CurvePoint | undefined {
    return this.points[this.points.length - 1]
  }

  get best(): number | null {
    return this.points.length ? Math.max(...this.points.map((p) => p.testAccuracy)) : null
  }

  get error(): string | null {
    return this.failed
  }

  /**
   * Evaluates `params` (copied now) as the model at `clock`, unless one is running or it is too soon; `force`
   * evaluates as soon as the running one ends (the first and the final point).
   */
  maybe(params: Float32Array, clock: number, force: boolean): void {
    const t = this.now()
    if (this.busy) {
      if (force) this.queued = { params: params.slice(), clock }
      return
    }
    const last = this.last
    if (!force && (t - this.lastStart < Math.max(MIN_INTERVAL_MS, IDLE_FACTOR * this.lastCost) || (last && last.clock === clock))) return
    this.run(params.slice(), clock)
  }

  /** Resolves when no evaluation is running or queued (after the final one). */
  async settled(): Promise<void> {
    while (this.busy) await this.busy
  }

  private run(copy: Float32Array, clock: number): void {
    const start = this.now()
    this.lastStart = start
    this.busy = this.evaluator(copy).then(
      (r) => {
        this.lastCost = this.now() - start
        this.points.push({ t: this.now(), clock, testAccuracy: r.accuracy, testLoss: r.loss })
      },
      (e: Error) => {
        this.failed = e.message
        this.onError(e)
      },
    ).finally(() => {
      this.busy = null
      const q = this.queued
      this.queued = null
      if (q) this.run(q.params, q.clock)
    })
  }
}
