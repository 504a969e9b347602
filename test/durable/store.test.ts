// The durable store: a job's model at any clock from snapshot + log equals what the replica had; quarantines taken
// out; damaged records and files dropped at start; a second coordinator on the same directory refused.
import { copyFileSync, mkdtempSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import type { JobCore, Outbox } from '../../coordinator/core/job.ts'
import { StoreJournal } from '../../coordinator/durable/journal.ts'
import { modelAt } from '../../coordinator/durable/replay.ts'
import { SqliteStore, StoreLockedError } from '../../coordinator/durable/sqlite-store.ts'
import { JobStore } from '../../coordinator/store.ts'
import { maxAbsDiff } from '../../model/params.ts'
import { applyParts } from '../../model/update.ts'
import { encodeFrame, readFrame } from '../../protocol/frames.ts'
import { tinyDataset, tinyJob, workerUpdate } from '../helpers/tiny-data.ts'

const out: Outbox = { send: () => {}, evict: () => {} }
const dirs: string[] = []
const stores: SqliteStore[] = []
afterEach(() => {
  for (const s of stores.splice(0)) s.close()
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true })
})

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'tabgrid-store-'))
  dirs.push(d)
  return d
}

type Line = { level: string; o: Record<string, unknown>; msg: string }
function open(dir: string, lines: Line[] = []): SqliteStore {
  const at = (level: string) => (o: object, msg: string) => void lines.push({ level, o: o as Record<string, unknown>, msg })
  const s = SqliteStore.open(dir, { info: at('info'), warn: at('warn'), error: at('error') })
  stores.push(s)
  return s
}

/** Two workers at staleness 2 for `clocks` clocks; the replica's model at each frontier is the reference. */
function run(store: SqliteStore, clocks: number, snapshotEvery: number, bad?: { worker: string; at: number }) {
  let journal: StoreJournal | undefined
  // no re-computation: the steps here come from the replica's model, not from the views they state
  const job: JobCore = tinyJob(out, () => 1000, { staleness: 2, batch: 4, shardSize: 200, verifyRate: 0 }, tinyDataset(400))
  // the journal is wired after construction here: tinyJob builds the job with its defaults
  journal = new StoreJournal(store, job.id, { snapshotEvery })
  ;(job as unknown as { journal: StoreJournal }).journal = journal
  const initial = job.replica.params.slice()
  const reference = new Map<number, Float32Array>()
  for (const w of ['a', 'b']) job.hello(w, { type: 'hello', engine: 'cpu' })
  for (const w of ['a', 'b']) job.ready(w)
  for (const w of ['a', 'b']) job.lease(w)
  for (let c = 0; c < clocks; c++) {
    for (const w of ['a', 'b']) {
      if (!job.members.has(w)) continue
      const u = workerUpdate(job, w, c, c - 1, 4, [], { view: { vc: {}, psUpTo: 0, corrections: job.corrections.length } })
      const msg = bad && w === bad.worker && c === bad.at ? { ...u.msg, frame: encodeFrame({ clock: c, prev: c - 1, rows: 4, parts: u.parts.map((p) => ({ ...p, floats: p.floats.map((v) => v * 1000) })) }) } : u.msg
      expect(job.update(w, msg).ok, `${w} at ${c}`).toBe(!(bad && w === bad.worker && c === bad.at))
      if (job.replica.frontier >= 0) reference.set(job.replica.frontier, job.replica.params.slice())
    }
  }
  return { job, initial, reference, journal }
}

describe('durable store', () => {
  it('rebuilds the model at any clock since the oldest kept snapshot from snapshot + log, as the replica had it', () => {
    const store = open(tempDir())
    const { job, initial, reference, journal } = run(store, 30, 5)
    expect(journal.lastSnapshot).toBeGreaterThanOrEqual(20)
    const oldest = store.latestSnapshot(job.id, 0)
    // three snapshots kept: the log below the oldest is gone, the clocks from it on can be rebuilt
    expect(store.disk(job.id).snapshots).toBe(3)
    const from = journal.lastSnapshot - 10
    expect(oldest).toBeUndefined()
    for (const c of [from, from + 2, journal.lastSnapshot, job.replica.frontier]) {
      const r = modelAt(job.plan, initial, store, job.id, c)
      expect(maxAbsDiff(r.params, reference.get(c)!), `clock ${c}`).toBeLessThan(1e-5)
    }
    // a clock between snapshots replays updates; at a snapshot's frontier it replays none
    expect(modelAt(job.plan, initial, store, job.id, from + 2).added).toBe(4)
    expect(modelAt(job.plan, initial, store, job.id, journal.lastSnapshot).added).toBe(0)
  })

  it('without snapshots, replays the whole log from the initial model', () => {
    const store = open(tempDir())
    const { job, initial, reference } = run(store, 8, 1_000)
    expect(store.disk(job.id)).toMatchObject({ snapshots: 0, updates: 16 })
    const r = modelAt(job.plan, initial, store, job.id, 5)
    expect(r).toMatchObject({ from: -1, added: 12, removed: 0 })
    expect(maxAbsDiff(r.params, reference.get(5)!)).toBeLessThan(1e-5)
  })

  it('takes out what a quarantine took back, whether the snapshot holds it or not', () => {
    const store = open(tempDir())
    // a is quarantined at clock 12 (×1000): its updates since its last verified one are undone on the replica
    const { job, initial, reference } = run(store, 16, 4, { worker: 'a', at: 12 })
    expect(job.members.has('a')).toBe(false)
    const now = modelAt(job.plan, initial, store, job.id, job.replica.frontier)
    expect(maxAbsDiff(now.params, job.replica.params)).toBeLessThan(1e-5)
    // from a snapshot taken before the quarantine, the undone updates it holds come out again
    const before = store.latestSnapshot(job.id, 8)!
    expect(before.frontier).toBeLessThan(12)
    const undone = store.undoneSince(job.id, before.frontier, before.seq)
    const r = modelAt(job.plan, initial, store, job.id, before.frontier)
    expect(r.removed).toBe(undone.length)
    expect(undone.every((u) => u.worker === 'a' && u.clock <= before.frontier)).toBe(true)
    // what the replica had then = the rebuilt model + a's updates it held
    const back = r.params.slice()
    for (const u of undone) {
      const f = readFrame(u.frame, job.plan.tensors, { expect: 'all', maxRows: 4 })
      applyParts(back, job.plan.tensors, f.parts, f.rows)
    }
    expect(maxAbsDiff(back, reference.get(before.frontier)!)).toBeLessThan(1e-5)
    expect(maxAbsDiff(r.params, reference.get(before.frontier)!)).toBeGreaterThan(1e-3)
  })

  it('keeps jobs, and reads back what was written after a close and a reopen', () => {
    const dir = tempDir()
    const a = open(dir)
    a.saveJob({ id: 'j-1', spec: { model: 'mlr' }, state: 'running', createdAt: 5 })
    const seq = a.append('j-1', { worker: 'w', clock: 0, frame: new Uint8Array([1, 2, 3]) })
    a.close()
    const b = open(dir)
    expect(b.jobs()).toEqual([{ id: 'j-1', spec: { model: 'mlr' }, state: 'running', createdAt: 5 }])
    expect(b.updates('j-1', -1, 10)).toEqual([{ seq, worker: 'w', clock: 0, frame: new Uint8Array([1, 2, 3]), undoneAt: null }])
    // log positions go on after a reopen
    expect(b.append('j-1', { worker: 'w', clock: 1, frame: new Uint8Array([4]) })).toBe(seq + 1)
  })

  it('refuses a second coordinator on the same directory with a clear error', () => {
    const dir = tempDir()
    open(dir)
    expect(() => open(dir)).toThrow(StoreLockedError)
    expect(() => open(dir)).toThrow(/another coordinator is using .*tabgrid\.db/)
  })

  it('drops a damaged update and its job’s later ones, and a damaged snapshot, with a log line, and starts', () => {
    const dir = tempDir()
    const a = open(dir)
    for (let c = 0; c < 5; c++) a.append('j-1', { worker: 'w', clock: c, frame: new Uint8Array([c, c, c]) })
    a.append('j-2', { worker: 'w', clock: 0, frame: new Uint8Array([9]) })
    a.snapshot('j-1', { frontier: 1, params: new Uint8Array(8), meta: {}, at: 1 })
    a.close()
    stores.splice(0)
    // a bit flipped in clock 2's frame, and in the snapshot
    const raw = new Database(join(dir, 'tabgrid.db'))
    raw.prepare("UPDATE updates SET frame = X'020302' WHERE job = 'j-1' AND clock = 2").run()
    raw.prepare("UPDATE snapshots SET params = X'0000000000000001' WHERE job = 'j-1'").run()
    raw.close()
    const lines: Line[] = []
    const b = open(dir, lines)
    expect(b.updates('j-1', -1, 10).map((u) => u.clock)).toEqual([0, 1])
    expect(b.updates('j-2', -1, 10)).toHaveLength(1)
    expect(b.latestSnapshot('j-1')).toBeUndefined()
    expect(lines.map((l) => l.msg)).toEqual(['damaged update records in the data store: dropped from the first bad one on', 'a damaged snapshot in the data store: dropped'])
    expect(lines[0].o).toMatchObject({ job: 'j-1', dropped: 3 })
  })

  it('a torn tail of the write-ahead log (a crash mid-write) loses only the last batch of records', () => {
    const dir = tempDir()
    const a = open(dir)
    for (let c = 0; c < 5; c++) a.append('j-1', { worker: 'w', clock: c, frame: new Uint8Array(3000).fill(c) })
    a.flush()
    for (let c = 5; c < 8; c++) a.append('j-1', { worker: 'w', clock: c, frame: new Uint8Array(3000).fill(c) })
    a.flush()
    // the files as a SIGKILL leaves them (no checkpoint, the WAL still there), the last write cut short
    const crashed = tempDir()
    for (const f of ['tabgrid.db', 'tabgrid.db-wal']) copyFileSync(join(dir, f), join(crashed, f))
    const wal = join(crashed, 'tabgrid.db-wal')
    truncateSync(wal, statSync(wal).size - 1000)
    const lines: Line[] = []
    const b = open(crashed, lines)
    expect(b.updates('j-1', -1, 10).map((u) => u.clock)).toEqual([0, 1, 2, 3, 4])
    // and it goes on writing where the kept log ends
    expect(b.append('j-1', { worker: 'w', clock: 5, frame: new Uint8Array([1]) })).toBe(5)
  })

  it('a job started from another model (a rollback) resumes from that model, and keeps its norm bounds', async () => {
    const dir = tempDir()
    const first = new JobStore(out, undefined, {}, undefined, undefined, open(dir))
    const spec = { data: 'builtin', model: 'mlr', trainLimit: 200, hyper: { batch: 8 } as never }
    const plain = await first.create(spec)
    const from = plain.replica.params.map((v, i) => v + 0.01 * Math.sin(i))
    const started = await first.create(spec, { initial: from })
    expect(maxAbsDiff(started.replica.params, from)).toBe(0)
    stores.splice(0).forEach((s) => s.close())
    const again = new JobStore(out, undefined, {}, undefined, undefined, open(dir))
    expect((await again.resume()).map((r) => r.ok)).toEqual([true, true])
    expect(maxAbsDiff(again.get(started.id)!.replica.params, from)).toBe(0)
    expect(again.get(started.id)!.guard.bounds).toEqual(started.guard.bounds)
    expect(maxAbsDiff(again.get(plain.id)!.replica.params, plain.replica.params)).toBe(0)
  })

  it("an operator's pause outlives a restart; a cancelled job is not resumed", async () => {
    const dir = tempDir()
    const first = new JobStore(out, undefined, {}, undefined, undefined, open(dir))
    const spec = { data: 'builtin', model: 'mlr', trainLimit: 200, hyper: { batch: 8 } as never }
    const paused = await first.create(spec)
    const cancelled = await first.create(spec)
    expect(first.control(paused.id, 'pause')).toBeNull()
    expect(first.control(cancelled.id, 'cancel')).toBeNull()
    stores.splice(0).forEach((s) => s.close())
    const again = new JobStore(out, undefined, {}, undefined, undefined, open(dir))
    expect((await again.resume()).map((r) => r.id)).toEqual([paused.id])
    expect(again.get(paused.id)!.summary()).toMatchObject({ state: 'paused', reason: 'paused by the operator' })
    expect(again.control(paused.id, 'resume')).toBeNull()
    expect(again.get(paused.id)!.state).toBe('pending')
  })

  it('moves a file that is not a database aside and starts a new one', () => {
    const dir = tempDir()
    writeFileSync(join(dir, 'tabgrid.db'), 'this is not a database, just the tail of something else'.repeat(100))
    const lines: Line[] = []
    const s = open(dir, lines)
    expect(s.jobs()).toEqual([])
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatchObject({ level: 'error', msg: 'the data store is damaged: moved aside, starting a new one' })
    expect(String(lines[0].o.aside)).toMatch(/tabgrid\.db\.corrupt-\d+$/)
  })
})
