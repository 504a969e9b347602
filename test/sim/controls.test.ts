// Pause, resume, throttle and cancel with real Sessions over socket.io (CPU engine, simulated WebRTC): an operator's
// pause stops every clock and resume goes on with the ledger whole; a volunteer's pause hands its shard back; a
// throttled tab computes less; a cancel ends every tab without an error.
import { afterEach, describe, expect, it } from 'vitest'
import { isEnded } from '../../protocol/job.ts'
import { sleep } from '../helpers/socket-worker.ts'
import { startNodeGrid, until, type NodeGrid } from './node-grid.ts'

const small = { model: 'mlp:16', trainLimit: 1200 }
let grid: NodeGrid | undefined
afterEach(async () => {
  await grid?.close()
  grid = undefined
})

const clocks = (g: NodeGrid) => g.workers.map((w) => w.status.clock)

describe('controls on a grid of Sessions', () => {
  it("an operator's pause holds every worker at a clock boundary; resumed, the job completes and every shard counts once", { timeout: 60_000 }, async () => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 2 }, small)
    const g = grid
    await until(() => g.job.ssp.min >= 5, 20_000, 'clock 5')
    expect(g.job.control('pause')).toBeNull()
    await until(() => g.workers.every((w) => w.status.phase === 'waiting'), 5000, 'every worker holding')
    // the updates that were on their way when the pause came still count
    await sleep(300)
    const held = clocks(g)
    const coordinator = JSON.stringify([...g.job.clocksByWorker])
    await sleep(800)
    expect(clocks(g)).toEqual(held)
    expect(JSON.stringify([...g.job.clocksByWorker])).toBe(coordinator)
    // every worker kept its lease through the pause, and nobody was evicted
    expect(g.workers.map((w) => g.job.ledger.leasesOf(w.status.workerId).length > 0)).toEqual([true, true, true])
    expect(g.job.control('resume')).toBeNull()
    await until(() => g.job.state === 'done', 40_000, 'the job done')
    await Promise.all(g.runs)
    expect(g.job.ledger.report().every((e) => e.processed === e.shards && e.missing.length === 0)).toBe(true)
    expect(g.workers.every((w) => w.status.phase === 'done' && w.status.error === undefined)).toBe(true)
  })

  it("a volunteer's pause hands its shard back and holds nobody; resumed, it trains again", { timeout: 60_000 }, async () => {
    grid = await startNodeGrid(2, { staleness: 1, batch: 8, shardSize: 50, epochs: 20 }, small)
    const g = grid
    await until(() => g.job.ssp.min >= 3, 20_000, 'clock 3')
    const [a, b] = g.workers
    a.pause()
    await until(() => a.status.phase === 'paused' && g.job.members.get(a.status.workerId)!.paused, 5000, 'a paused')
    expect(g.job.ledger.leasesOf(a.status.workerId)).toEqual([])
    const samples = a.status.samples
    const bClock = b.status.clock
    await sleep(1000)
    // a does nothing, b goes on past the staleness bound a would have held it to
    expect(a.status.samples).toBe(samples)
    expect(b.status.clock).toBeGreaterThan(bClock + 2)
    a.resume()
    await until(() => a.status.samples > samples, 10_000, 'a training again')
    expect(g.job.members.get(a.status.workerId)!.paused).toBe(false)
    for (const w of g.workers) expect(w.status.error).toBeUndefined()
  })

  it('a throttled tab computes about its duty of the time: at 25 % its engine rests ~3× its busy time', { timeout: 60_000 }, async () => {
    // a model big enough that the engine, not the messages, sets a clock's time
    grid = await startNodeGrid(1, { staleness: 1, batch: 32, shardSize: 320, epochs: 50 }, { model: 'mlp:128', trainLimit: 1280 })
    const [w] = grid.workers
    await until(() => w.status.time.clocks >= 20, 20_000, 'warm')
    const span = async () => {
      const t0 = { ...w.status.time }
      await sleep(1500)
      const t = w.status.time
      return { clocks: t.clocks - t0.clocks, engine: t.engineMs - t0.engineMs }
    }
    const full = await span()
    w.setDuty(0.25)
    await sleep(300)
    const quarter = await span()
    expect(w.status.duty).toBe(0.25)
    // per clock, the engine's time (rest included) is about 4× what it was; clocks per second fall alike
    const perClock = (s: { clocks: number; engine: number }) => s.engine / s.clocks
    expect(perClock(quarter) / perClock(full)).toBeGreaterThan(2.5)
    expect(quarter.clocks / full.clocks).toBeLessThan(0.6)
    expect(grid.job.members.get(w.status.workerId)!.duty).toBe(0.25)
  })

  it("a cancel ends every tab's work without an error, saying why", { timeout: 60_000 }, async () => {
    grid = await startNodeGrid(3, { staleness: 1, batch: 8, shardSize: 50, epochs: 20 }, small)
    const g = grid
    await until(() => g.job.ssp.min >= 3, 20_000, 'clock 3')
    expect(g.job.control('cancel')).toBeNull()
    await Promise.all(g.runs)
    expect(isEnded(g.job.state)).toBe(true)
    for (const w of g.workers) {
      expect(w.status.error).toBe(undefined)
      expect(w.status).toMatchObject({ phase: 'done', jobReason: 'cancelled by the operator', job: { state: 'failed' } })
      expect(w.status.error).toBeUndefined()
    }
  })
})
