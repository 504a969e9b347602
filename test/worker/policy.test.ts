// The decisions the page and `tabgrid worker` share: what to do after a session, and which engine to train with.
import { describe, expect, it } from 'vitest'
import { decideEngine, engineLabel } from '../../client/gpu/engine-choice.ts'
import { afterSession, MAX_RETRY_MS, NEXT_JOB_RETRY_MS, retryDelay, type SessionEnd } from '../../client/train/rejoin.ts'

const end = (e: Partial<SessionEnd>): SessionEnd => ({ reached: true, done: false, left: false, tied: false, ...e })

describe('afterSession', () => {
  it('a volunteer on the bare URL waits for the next job, and for a first one', () => {
    expect(afterSession(end({ done: true }), 3)).toEqual({ next: { action: 'rejoin', why: 'next-job', waitMs: NEXT_JOB_RETRY_MS }, unreached: 0 })
    expect(afterSession(end({ code: 'ERR_UNKNOWN_JOB' }), 0).next).toEqual({ action: 'rejoin', why: 'no-job', waitMs: NEXT_JOB_RETRY_MS })
    expect(afterSession(end({ code: 'ERR_JOB_CLOSED' }), 0).next).toMatchObject({ why: 'no-job' })
  })

  it('one tied to a job stops when it is done or gone, and on any other error; nobody goes on after leaving', () => {
    expect(afterSession(end({ done: true, tied: true }), 0).next).toEqual({ action: 'stop' })
    expect(afterSession(end({ code: 'ERR_JOB_CLOSED', tied: true }), 0).next).toEqual({ action: 'stop' })
    expect(afterSession(end({ code: 'ERR_STALLED' }), 0).next).toEqual({ action: 'stop' })
    expect(afterSession(end({ code: 'ERR_TIMEOUT' }), 0).next).toEqual({ action: 'stop' }) // reached, then a request timed out
    expect(afterSession(end({ code: 'ERR_DISCONNECTED', left: true }), 0).next).toEqual({ action: 'stop' })
  })

  it('a dropped or unreachable coordinator: rejoin, tied or not, backing off while it cannot be reached', () => {
    const dropped = afterSession(end({ code: 'ERR_DISCONNECTED', tied: true }), 4)
    expect(dropped.unreached).toBe(0)
    expect(dropped.next).toMatchObject({ action: 'rejoin', why: 'dropped' })
    let unreached = 0
    const waits: number[] = []
    for (let i = 0; i < 6; i++) {
      const r = afterSession(end({ code: 'ERR_TIMEOUT', reached: false }), unreached)
      unreached = r.unreached
      if (r.next.action === 'rejoin') waits.push(r.next.waitMs)
    }
    expect(unreached).toBe(6)
    expect(waits[0]).toBeGreaterThanOrEqual(0.8 * 2 * NEXT_JOB_RETRY_MS)
    expect(waits[1]).toBeGreaterThanOrEqual(0.8 * 4 * NEXT_JOB_RETRY_MS)
    expect(Math.max(...waits)).toBeLessThanOrEqual(1.2 * MAX_RETRY_MS)
    expect(retryDelay(10, () => 0.5)).toBe(MAX_RETRY_MS)
  })
})

describe('decideEngine', () => {
  const flag = (e: string) => `--engine ${e}`
  it('auto: the faster of both, timed, on a hardware adapter; the CPU kernels on a software one or without a GPU, saying why', () => {
    expect(decideEngine('auto', { software: false }, flag)).toEqual({ kind: 'webgpu', why: '', timed: true })
    expect(engineLabel(decideEngine('auto', { software: false }, flag))).toBe('WebGPU or CPU, the faster on this job’s model (timed when the job is known)')
    expect(engineLabel(decideEngine('auto', { software: true }, flag))).toBe(
      'CPU (the WebGPU adapter is a software one, on which the CPU kernels are faster; --engine webgpu to use it anyway)',
    )
    expect(decideEngine('auto', { missing: 'the webgpu package did not load' }, flag)).toEqual({ kind: 'cpu', why: 'the webgpu package did not load' })
  })

  it('webgpu takes any adapter; cpu never looks', () => {
    expect(engineLabel(decideEngine('webgpu', { software: true }, flag))).toBe('WebGPU (asked for by --engine webgpu)')
    expect(engineLabel(decideEngine('cpu', { software: false }, (e) => `?engine=${e}`))).toBe('CPU (asked for by ?engine=cpu)')
  })
})
