// The job's test curve: evaluations of the replica run off the socket path (an injected evaluator, a worker-thread
// pool in the coordinator), at most one at a time and no more often than a duty cycle allows.
import { evaluate } from '../../model/network.ts'
import type { ModelPlan } from '../../model/plan.ts'
import { mulberry32, permutation } from '../data/random.ts'
import type { Split } from '../data/types.ts'

export interface EvalResult {
  loss: number
  accuracy: number
}

/** Evaluates a copy of the arena on the first `n` samples of the job's test split in evaluation order. */
export type Evaluator = (params: Float32Array, n: number) => Promise<EvalResult>

export interface CurvePoint {
  t: number
  clock: number
  testAccuracy: number
  testLoss: number
  /** Test samples evaluated: the whole split for the first and the final point, a fixed random subset between. */
  samples: number
}

/** Test samples an evaluation during training uses at most (the first and the final one use them all). */
export const CURVE_SAMPLES = 2000

/**
 * The test split in evaluation order: a seeded shuffle, so the subset intermediate points use is a random one (a
 * data set's first rows need not be typical: MNIST's first 2000 test images are harder than the rest).
 */
export function evaluationOrder(test: Split, J: number): Split {
  const order = permutation(test.n, mulberry32(0x7e57))
  const x = new Float32Array(test.n * J)
  const y = new Uint8Array(test.n)
  for (let i = 0; i < test.n; i++) {
    x.set(test.x.subarray(order[i] * J, (order[i] + 1) * J), i * J)
    y[i] = test.y[order[i]]
  }
  return { n: test.n, x, y }
}

/** Evaluate at most this often… */
const MIN_INTERVAL_MS = 500
/** …and leave the evaluator idle this many times as long as the last evaluation took (≤ 20 % of one core). */
const IDLE_FACTOR = 4

/** The reference evaluation in this thread: for tests and small jobs. */
export function inlineEvaluator(plan: ModelPlan, test: Split): Evaluator {
  const ordered = evaluationOrder(test, plan.inputSize)
  return async (params, n) => evaluate(plan, params, ordered.x, ordered.y, Math.min(n, ordered.n))
}

export class TestCurve {
  readonly points: CurvePoint[] = []
  private busy: Promise<void> | null = null
  private lastStart = -Infinity
  private lastCost = 0
  /** A forced evaluation asked for while one was running. */
  private queued: { params: Float32Array; clock: number; n: number } | null = null
  private failed: string | null = null

  constructor(
    private readonly evaluator: Evaluator,
    /** Samples in the test split. */
    private readonly testSize: number,
    private readonly now: () => number,
    private readonly onError: (e: Error) => void = () => {},
  ) {}

  /** The newest point. */
  get last(): CurvePoint | undefined {
    return this.points[this.points.length - 1]
  }

  /** The best accuracy any evaluation saw (intermediate ones estimate it on CURVE_SAMPLES test samples). */
  get best(): number | null {
    return this.points.length ? Math.max(...this.points.map((p) => p.testAccuracy)) : null
  }

  get error(): string | null {
    return this.failed
  }

  /**
   * Evaluates `params` (copied now) as the model at `clock`, unless one is running or it is too soon, on up to
   * CURVE_SAMPLES test samples; `force` evaluates on the whole split as soon as the running one ends (the first and
   * the final point).
   */
  maybe(params: Float32Array, clock: number, force: boolean): void {
    const t = this.now()
    const n = force ? this.testSize : Math.min(this.testSize, CURVE_SAMPLES)
    if (this.busy) {
      if (force) this.queued = { params: params.slice(), clock, n }
      return
    }
    const last = this.last
    if (!force && (t - this.lastStart < Math.max(MIN_INTERVAL_MS, IDLE_FACTOR * this.lastCost) || (last && last.clock === clock))) return
    this.run(params.slice(), clock, n)
  }

  /** Resolves when no evaluation is running or queued (after the final one). */
  async settled(): Promise<void> {
    while (this.busy) await this.busy
  }

  private run(copy: Float32Array, clock: number, n: number): void {
    const start = this.now()
    this.lastStart = start
    this.busy = this.evaluator(copy, n).then(
      (r) => {
        // the pause after an evaluation is measured at the intermediate size, whatever size this one was
        this.lastCost = ((this.now() - start) * Math.min(n, CURVE_SAMPLES)) / Math.max(1, n)
        this.points.push({ t: this.now(), clock, testAccuracy: r.accuracy, testLoss: r.loss, samples: n })
      },
      (e: Error) => {
        this.failed = e.message
        this.onError(e)
      },
    ).finally(() => {
      this.busy = null
      const q = this.queued
      this.queued = null
      if (q) this.run(q.params, q.clock, q.n)
    })
  }
}
