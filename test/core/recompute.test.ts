// Spot re-computation on the job core: the model a worker states it computed from is rebuilt exactly, whoever sent what.
import { describe, expect, it } from 'vitest'
import type { Outbox } from '../../coordinator/core/job.ts'
import { Verifier } from '../../coordinator/core/recompute.ts'
import { applyParts } from '../../model/update.ts'
import type { Rejection } from '../../protocol/errors.ts'
import { tinyJob, workerUpdate } from '../helpers/tiny-data.ts'

class Out implements Outbox {
  evicted: Array<{ worker: string; why: Rejection }> = []
  send(): void {}
  evict(worker: string, why: Rejection): void {
    this.evicted.push({ worker, why })
  }
}

function running(staleness: number) {
  const out = new Out()
  const job = tinyJob(out, () => 1000, { staleness, verifyRate: 1 })
  for (const w of ['a', 'b']) job.hello(w, { type: 'hello', engine: 'cpu' })
  for (const w of ['a', 'b']) job.ready(w)
  for (const w of ['a', 'b']) expect(job.lease(w)).toMatchObject({ ok: true, lease: { clock: 0 } })
  return { job, out }
}

/** At s=2, a and b each send clock 0 from the first model; the replica's frontier is 0. */
function bothAtClockZero() {
  const { job, out } = running(2)
  const first = job.replica.params.slice()
  const a0 = workerUpdate(job, 'a', 0, -1, 4, [], { params: first })
  expect(job.update('a', a0.msg)).toEqual({ ok: true, clock: 0 })
  expect(job.update('b', workerUpdate(job, 'b', 0, -1, 4, [], { params: first }).msg)).toEqual({ ok: true, clock: 0 })
  return { job, out, first, a0 }
}

describe('spot re-computation', () => {
  it('takes out what the replica holds of a peer the worker never heard of, even with nothing of it queued', () => {
    // at s=2, a's clock 1 may read nothing of b: a computes from the first model plus its own clock 0 only, while the
    // replica (frontier 0) holds b's clock 0 and b has nothing queued
    const { job, out, first, a0 } = bothAtClockZero()
    expect(job.replica.frontier).toBe(0)
    const mine = first.slice()
    applyParts(mine, job.plan.tensors, a0.parts, a0.rows)
    const a1 = workerUpdate(job, 'a', 1, 0, 4, [], { params: mine, view: { vc: {}, psUpTo: 0 } })
    expect(job.update('a', a1.msg)).toEqual({ ok: true, clock: 1 })
    expect(job.verifier).toMatchObject({ checked: 3, failed: 0 })
    expect(out.evicted).toEqual([])
  })

  it('refuses the same step computed from a model the view does not describe', () => {
    const { job, out, first, a0 } = bothAtClockZero()
    // a did apply b's clock 0 (the replica's model) but states it did not
    const a1 = workerUpdate(job, 'a', 1, 0, 4, [], { view: { vc: {}, psUpTo: 0 } })
    expect(job.update('a', a1.msg)).toMatchObject({ ok: false, code: 'ERR_BAD_UPDATE', reason: expect.stringMatching(/re-computed from the view it stated/) })
    expect(out.evicted).toMatchObject([{ worker: 'a', why: { code: 'ERR_QUARANTINED' } }])
  })
})

describe('which updates are re-computed', () => {
  it('one in each block of 1/rate at a secret place, and newcomers more: a liar is checked within 2/rate updates', () => {
    const { job } = running(0)
    const v = new Verifier(job.plan, 0.05, job.guard.bounds)
    const picks: number[] = []
    for (let n = 0; n < 20_000; n++) if (v.sample('w')) picks.push(n)
    expect(picks[0]).toBe(0)
    const gaps = picks.slice(1).map((p, i) => p - picks[i])
    expect(Math.max(...gaps)).toBeLessThanOrEqual(39)
    // 1,000 blocks, plus ~ln 20,000 ≈ 10 newcomer checks
    expect(picks.length).toBeGreaterThanOrEqual(1000)
    expect(picks.length).toBeLessThan(1040)
    // the place in a block is not fixed: a liar cannot time its lies
    expect(new Set(picks.map((p) => p % 20)).size).toBeGreaterThan(15)
    // two verifiers draw apart (each seeds from the OS)
    const other = new Verifier(job.plan, 0.05, job.guard.bounds)
    const again: number[] = []
    for (let n = 0; n < 200; n++) if (other.sample('w')) again.push(n)
    expect(again).not.toEqual(picks.filter((p) => p < 200))
  })

  it('rate 0 checks nothing', () => {
    const { job } = running(0)
    const v = new Verifier(job.plan, 0, job.guard.bounds)
    expect(Array.from({ length: 100 }, () => v.sample('w')).some(Boolean)).toBe(false)
  })
})
