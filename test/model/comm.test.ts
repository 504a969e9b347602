// Poseidon's rule: factors for big matrices with few workers, the parameter server for the rest.
import { describe, expect, it } from 'vitest'
import { choosePaths, pathCost } from '../../model/comm.ts'
import { planModel } from '../../model/plan.ts'
import { presetSpec } from '../../model/spec.ts'

const mnist = { features: 784, classes: 10, imageShape: [28, 28] as [number, number] }
const mlp = planModel(presetSpec('mlp:256,128', 10), mnist)
const named = (paths: string[]) => Object.fromEntries(mlp.tensors.map((t, i) => [t.name, paths[i]]))

describe("Poseidon's rule", () => {
  it('3 workers, B=32: hidden kernels go sf, biases and the 128×10 output kernel ps', () => {
    expect(named(choosePaths(mlp, { batch: 32, workers: 3 }))).toEqual({
      'dense_1/kernel': 'sf',
      'dense_1/bias': 'ps',
      'dense_2/kernel': 'sf',
      'dense_2/bias': 'ps',
      'dense_3/kernel': 'ps',
      'dense_3/bias': 'ps',
    })
  })

  it('32 workers with full broadcast: the 784→256 kernel switches to ps; a fan-out of 2 keeps it sf at 16', () => {
    expect(choosePaths(mlp, { batch: 32, workers: 32 })[0]).toBe('ps')
    expect(choosePaths(mlp, { batch: 32, workers: 4 })[0]).toBe('sf')
    // the cost of a fan-out: fewer sends, the same receives
    const full = pathCost(mlp.tensors[0], 'sf', { batch: 32, workers: 16 })
    const q2 = pathCost(mlp.tensors[0], 'sf', { batch: 32, workers: 16, fanout: 2 })
    expect(full).toEqual({ sent: 32 * 1040 * 16, received: 32 * 1040 * 15 })
    expect(q2).toEqual({ sent: 32 * 1040 * 3, received: 32 * 1040 * 15 })
  })

  it('ps costs one push and one pull whatever the number of workers', () => {
    for (const workers of [1, 4, 64]) expect(pathCost(mlp.tensors[0], 'ps', { batch: 32, workers })).toEqual({ sent: 784 * 256, received: 784 * 256 })
  })

  it('MLR on 10 classes goes through the server: B·(K+J) per peer outweighs 2·K·J', () => {
    const mlr = planModel(presetSpec('mlr', 10), mnist)
    expect(choosePaths(mlr, { batch: 8, workers: 3 })).toEqual(['ps', 'ps'])
  })
})
