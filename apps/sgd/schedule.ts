// The learning-rate schedule: a pure function of the job's progress, so every worker's update at a given point of
// the job is scaled alike (the sender scales its factors; replicas apply the very same numbers).

export type ScheduleKind = 'constant' | 'invsqrt' | 'step' | 'cosine'

export interface Schedule {
  /** η₀, the rate at the start. */
  lr: number
  /**
   * constant: η₀; invsqrt: η₀/√(1 + e/τ); step: η₀·γ^⌊e/τ⌋; cosine: η₀·½(1 + cos(π·e/E)), annealed to 0 at the end
   * of the job's E epochs — e is the epochs done so far (fractional).
   */
  lrSchedule: ScheduleKind
  /** τ, in epochs. */
  lrDecayEpochs: number
  /** γ, for the step schedule. */
  lrStepFactor: number
  /** E, the job's epochs (cosine). */
  epochs: number
}

/**
 * The learning rate after `epochsDone` (fractional) epochs of the job.
 *
 * @example
 * learningRate({ lr: 0.1, lrSchedule: 'invsqrt', lrDecayEpochs: 1, lrStepFactor: 0.5, epochs: 4 }, 3) // 0.05
 */
export function learningRate(s: Schedule, epochsDone: number): number {
  const e = Math.max(0, epochsDone)
  switch (s.lrSchedule) {
    case 'constant':
      return s.lr
    case 'invsqrt':
      return s.lr / Math.sqrt(1 + e / s.lrDecayEpochs)
    case 'step':
      return s.lr * s.lrStepFactor ** Math.floor(e / s.lrDecayEpochs)
    case 'cosine':
      return (s.lr * (1 + Math.cos(Math.PI * Math.min(1, e / s.epochs)))) / 2
    default: {
      const unreachable: never = s.lrSchedule
      return unreachable
    }
  }
}
