// The learning-rate schedules: their values at known points of a job.
import { describe, expect, it } from 'vitest'
import { learningRate } from '../../apps/sgd/schedule.ts'

const base = { lr: 0.2, lrDecayEpochs: 2, lrStepFactor: 0.5, epochs: 4 }

describe('learning-rate schedules', () => {
  it.each([
    ['constant', [0.2, 0.2, 0.2]],
    ['invsqrt', [0.2, 0.2 / Math.sqrt(2), 0.2 / Math.sqrt(3)]],
    ['step', [0.2, 0.1, 0.05]],
    ['cosine', [0.2, 0.1, 0]],
  ] as const)('%s at 0, 2 and 4 epochs', (kind, want) => {
    const got = [0, 2, 4].map((e) => learningRate({ ...base, lrSchedule: kind }, e))
    for (const [i, w] of want.entries()) expect(got[i]).toBeCloseTo(w, 12)
  })

  it('cosine stays at 0 past the last epoch and never goes negative', () => {
    expect(learningRate({ ...base, lrSchedule: 'cosine' }, 5)).toBeCloseTo(0, 12)
    expect(learningRate({ ...base, lrSchedule: 'cosine' }, -1)).toBeCloseTo(0.2, 12)
  })
})
