// Durability's cost on the coordinator's hot path: accepted updates per second with and without a data directory.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { JobCore, Outbox } from '../coordinator/core/job.ts'
import { SqliteStore } from '../coordinator/durable/sqlite-store.ts'
import { JobStore } from '../coordinator/store.ts'
import { trainStep } from '../model/network.ts'
import { scaleParts, type Part } from '../model/update.ts'
import { encodeFrame } from '../protocol/frames.ts'

const WORKERS = 4
const BATCH = 16
const silent = { info: () => {}, warn: () => {}, error: () => {} }
const out: Outbox = { send: () => {}, evict: () => {} }

/**
 * One job (mlp:64 on 4,000 built-in samples, 2 epochs, s=2) driven straight through JobCore by 4 in-process workers,
 * so the figure is the coordinator's work per update (checks, SSP, server sums, replica, relay bookkeeping) and, with
 * `durable`, the journal's. The steps are computed beforehand (at the initial model: every check but re-computation,
 * which is off, holds for them), so no training cost hides the difference.
 */
async function once(durable: boolean): Promise<{ updates: number; seconds: number; perSecond: number; bytes: number }> {
  const dir = durable ? mkdtempSync(join(tmpdir(), 'tabgrid-bench-')) : null
  const store = dir ? SqliteStore.open(dir, silent) : undefined
  const jobs = new JobStore(out, undefined, {}, undefined, undefined, store)
  const job: JobCore = await jobs.create({ data: 'builtin', model: 'mlp:64', trainLimit: 4000, hyper: { batch: BATCH, staleness: 2, epochs: 2, shardSize: 200, minWorkers: WORKERS, verifyRate: 0, snapshotEvery: 100 } as never })
  const ids = Array.from({ length: WORKERS }, (_, i) => `w${i}`)
  for (const w of ids) job.hello(w, { type: 'hello', engine: 'cpu' })
  for (const w of ids) job.ready(w)
  // every batch's step at rate 1, once; each update scales it to its lease's rate (U only for factors)
  const steps = new Map<string, Part[]>()
  const size = job.info.shards.size
  for (let s = 0; s < job.info.shards.count; s++) {
    for (let r = 0; r < size; r += BATCH) {
      const rows = Math.min(BATCH, size - r)
      steps.set(`${s}:${r}`, trainStep(job.plan, job.replica.params, job.data.train.x, job.data.train.y, s * size + r, rows, -1 / rows, job.comm.paths).parts)
    }
  }
  const stepOf = (shard: number, row: number, rows: number, lr: number): Part[] => scaleParts(job.plan.tensors, steps.get(`${shard}:${row}`)!, rows, lr)
  const state = new Map(ids.map((w) => [w, { clock: 0, prev: -1, lease: null as null | { id: string; shard: number; row: number; lr: number } }]))
  let updates = 0
  const t0 = performance.now()
  for (let busy = true; busy && job.state !== 'done'; ) {
    busy = false
    for (const w of ids) {
      const st = state.get(w)!
      if (!st.lease) {
        const r = job.lease(w)
        if (!('lease' in r) || !r.lease) continue
        st.lease = { id: r.lease.id, shard: r.lease.shard, row: 0, lr: r.lease.lr }
        st.clock = r.lease.clock
      }
      if (!job.ssp.mayStart(st.clock)) {
        busy = true
        continue
      }
      const l = st.lease
      const rows = Math.min(BATCH, size - l.row)
      const frame = encodeFrame({ clock: st.clock, prev: st.prev, rows, parts: stepOf(l.shard, l.row, rows, l.lr) })
      const r = job.update(w, { type: 'update', loss: 1, correct: 0, p2pTo: [], frame, view: { vc: {}, psUpTo: 0, corrections: 0 } })
      if (!r.ok) throw new Error(`update refused: ${r.code} ${r.reason}`)
      updates++
      st.prev = st.clock++
      l.row += rows
      if (l.row >= size) {
        job.shardDone(w, { type: 'shard-done', lease: l.id })
        st.lease = null
      }
      busy = true
    }
  }
  store?.flush()
  const seconds = (performance.now() - t0) / 1000
  const bytes = store ? store.disk(job.id).bytes : 0
  store?.close()
  if (dir) rmSync(dir, { recursive: true, force: true })
  return { updates, seconds, perSecond: updates / seconds, bytes }
}

export async function benchDurable(): Promise<void> {
  // alternate, twice each, and keep each side's best: the machine's noise is larger than the difference
  const mem = [await once(false), await once(false)]
  const disk = [await once(true), await once(true)]
  const best = (xs: Array<{ perSecond: number }>) => Math.max(...xs.map((x) => x.perSecond))
  const m = best(mem)
  const d = best(disk)
  console.log(`\nDurability: accepted updates/s through JobCore (mlp:64, 4 workers, B ${BATCH}, ${mem[0].updates} updates; steps precomputed)`)
  console.log(`  in memory      ${m.toFixed(0)} updates/s`)
  console.log(`  data directory ${d.toFixed(0)} updates/s (SQLite, WAL, batched per 50 ms; ${(disk[0].bytes / 2 ** 20).toFixed(1)} MiB kept at the end)`)
  console.log(`  ratio          ×${(d / m).toFixed(2)}`)
}
