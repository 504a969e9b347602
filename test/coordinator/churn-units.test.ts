// What churn must not grow, piece by piece: throttled log lines keyed by worker or address, the path history.
import { describe, expect, it } from 'vitest'
import { COMM_HISTORY_MAX, CommState } from '../../coordinator/core/comm.ts'
import { LogThrottle } from '../../coordinator/edge/log-throttle.ts'
import { planModel } from '../../model/plan.ts'
import { tinyDataset, tinyModel } from '../helpers/tiny-data.ts'

describe('LogThrottle', () => {
  it('forgets keys whose line is older than the interval with nothing unlogged, once per interval', () => {
    const c = { t: 0 }
    const l = new LogThrottle(1000, () => c.t)
    expect(l.hit('rejected w-1 ERR_CLOCK')).toBe(1)
    c.t = 500
    expect(l.hit('rejected w-2 ERR_CLOCK')).toBe(1)
    c.t = 600
    expect(l.hit('rejected w-2 ERR_CLOCK')).toBeNull() // unlogged: kept until its line
    c.t = 1000
    expect(l.hit('rejected w-3 ERR_CLOCK')).toBe(1) // sweeps w-1 (a second old, nothing unlogged)
    expect(l.size).toBe(2)
    c.t = 1500
    expect(l.hit('rejected w-4 ERR_CLOCK')).toBe(1) // no sweep within the interval
    expect(l.size).toBe(3)
    c.t = 2600
    expect(l.hit('rejected w-2 ERR_CLOCK')).toBe(2) // w-2 kept its count; w-3 and w-4 are swept
    expect(l.size).toBe(1)
  })
})

describe('CommState', () => {
  it('keeps the first decision and the newest ones when tabs keep flipping a path', () => {
    const data = tinyDataset()
    const comm = new CommState(planModel(tinyModel(data.classes), data), 4, undefined)
    // the 32×40 kernel goes sf at 2 workers and ps at 12: each join and leave around that flips it
    for (let i = 0; i < 3 * COMM_HISTORY_MAX; i++) expect(comm.decide(i % 2 ? 12 : 2, i, i)).toBe(true)
    expect(comm.history).toHaveLength(COMM_HISTORY_MAX)
    expect(comm.history[0].version).toBe(1)
    expect(comm.history[1].version).toBe(3 * COMM_HISTORY_MAX - COMM_HISTORY_MAX + 2)
    expect(comm.history.at(-1)!.version).toBe(3 * COMM_HISTORY_MAX)
    expect(comm.view().version).toBe(3 * COMM_HISTORY_MAX)
  })
})
