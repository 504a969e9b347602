// The embedded durable store: one SQLite file in the data directory (better-sqlite3), writes batched off the hot path.
import { existsSync, mkdirSync, renameSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import Database from 'better-sqlite3'
import type { Completion } from '../core/ledger.ts'
import type { DiskUse, DurableStore, LoggedUpdate, SnapshotRecord, StoredJob, UpdateRecord } from './types.ts'

/** Buffered writes go out at most this long after they were made (a crash loses at most this much). */
export const FLUSH_MS = 50
/** …or as soon as this many are waiting. */
export const FLUSH_RECORDS = 512

/** What the store tells the operator (a pino logger fits). */
export interface StoreLog {
  info(o: object, msg: string): void
  warn(o: object, msg: string): void
  error(o: object, msg: string): void
}

/** Another coordinator holds the data directory. */
export class StoreLockedError extends Error {
  readonly code = 'ERR_STORE_LOCKED'
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS jobs (id TEXT PRIMARY KEY, spec TEXT NOT NULL, state TEXT NOT NULL, created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS updates (
  job TEXT NOT NULL, seq INTEGER NOT NULL, worker TEXT NOT NULL, clock INTEGER NOT NULL, frame BLOB NOT NULL,
  crc INTEGER NOT NULL, undone_at INTEGER, UNIQUE (job, seq));
CREATE INDEX IF NOT EXISTS updates_clock ON updates (job, clock);
CREATE TABLE IF NOT EXISTS snapshots (
  job TEXT NOT NULL, seq INTEGER NOT NULL, frontier INTEGER NOT NULL, params BLOB NOT NULL, meta TEXT NOT NULL,
  crc INTEGER NOT NULL, at INTEGER NOT NULL, PRIMARY KEY (job, seq));
CREATE TABLE IF NOT EXISTS seqs (job TEXT PRIMARY KEY, seq INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS completions (
  job TEXT NOT NULL, epoch INTEGER NOT NULL, shard INTEGER NOT NULL, worker TEXT NOT NULL, PRIMARY KEY (job, epoch, shard)) WITHOUT ROWID;
`

type Row = { job: string; seq: number; worker: string; clock: number; frame: Buffer; crc: number; undone_at: number | null }
type SnapRow = { job: string; seq: number; frontier: number; params: Buffer; meta: string; crc: number; at: number }

/**
 * @example
 * const store = SqliteStore.open('/var/lib/tabgrid', log)   // throws StoreLockedError if another coordinator has it
 * const seq = store.append('j-1', { worker: 'w-1', clock: 7, frame })
 * store.snapshot('j-1', { frontier: 6, params, meta: {}, at: Date.now() })
 */
export class SqliteStore implements DurableStore {
  private readonly pending: Array<() => void> = []
  private timer: NodeJS.Timeout | null = null
  private readonly seqs = new Map<string, number>()
  /** Statements compiled once each: writes run per accepted update. */
  private readonly statements = new Map<string, Database.Statement>()
  private closed = false

  private constructor(
    private readonly db: Database.Database,
    readonly file: string,
    private readonly log: StoreLog,
  ) {}

  /**
   * Opens (or creates) the store in `dir`, holding it exclusively. A file that is not a sound SQLite database is moved
   * aside (`tabgrid.db.corrupt-<time>`) and a new one started; records whose checksum fails are dropped with the rest
   * of their job's log after them. Never throws for damage, only for a lock held by another coordinator.
   */
  static open(dir: string, log: StoreLog): SqliteStore {
    mkdirSync(dir, { recursive: true })
    const file = join(dir, 'tabgrid.db')
    let db: Database.Database
    try {
      db = openLocked(file)
    } catch (e) {
      if (e instanceof StoreLockedError) throw e
      const aside = `${file}.corrupt-${Date.now()}`
      log.error({ file, aside, err: (e as Error).message }, 'the data store is damaged: moved aside, starting a new one')
      for (const suffix of ['', '-wal', '-shm']) if (existsSync(file + suffix)) renameSync(file + suffix, aside + suffix)
      db = openLocked(file)
    }
    const store = new SqliteStore(db, file, log)
    store.dropDamaged()
    for (const r of db.prepare('SELECT job, seq FROM seqs').all() as Array<{ job: string; seq: number }>) store.seqs.set(r.job, r.seq)
    return store
  }

  saveJob(job: StoredJob): void {
    this.write(() => this.sql('INSERT OR REPLACE INTO jobs (id, spec, state, created) VALUES (?, ?, ?, ?)').run(job.id, JSON.stringify(job.spec), job.state, job.createdAt))
  }

  jobs(): StoredJob[] {
    this.flush()
    const rows = this.sql('SELECT id, spec, state, created FROM jobs ORDER BY created').all() as Array<{ id: string; spec: string; state: string; created: number }>
    return rows.map((r) => ({ id: r.id, spec: JSON.parse(r.spec) as unknown, state: r.state as StoredJob['state'], createdAt: r.created }))
  }

  setState(job: string, state: StoredJob['state']): void {
    this.write(() => this.sql('UPDATE jobs SET state = ? WHERE id = ?').run(state, job))
  }

  complete(job: string, c: Completion): void {
    this.write(() => this.sql('INSERT OR REPLACE INTO completions (job, epoch, shard, worker) VALUES (?, ?, ?, ?)').run(job, c.epoch, c.shard, c.worker))
  }

  reopen(job: string, epoch: number, shard: number): void {
    this.write(() => this.sql('DELETE FROM completions WHERE job = ? AND epoch = ? AND shard = ?').run(job, epoch, shard))
  }

  completions(job: string): Completion[] {
    this.flush()
    return this.sql('SELECT epoch, shard, worker FROM completions WHERE job = ? ORDER BY epoch, shard').all(job) as Completion[]
  }

  topClock(job: string): number {
    this.flush()
    const u = this.sql('SELECT MAX(clock) AS c FROM updates WHERE job = ? AND undone_at IS NULL').get(job) as { c: number | null }
    const s = this.sql('SELECT MAX(frontier) AS c FROM snapshots WHERE job = ?').get(job) as { c: number | null }
    return Math.max(u.c ?? -1, s.c ?? -1)
  }

  append(job: string, u: UpdateRecord): number {
    const seq = this.nextSeq(job)
    const frame = Buffer.from(u.frame.buffer, u.frame.byteOffset, u.frame.byteLength)
    const crc = crc32(frame)
    this.write(() => this.sql('INSERT INTO updates (job, seq, worker, clock, frame, crc) VALUES (?, ?, ?, ?, ?, ?)').run(job, seq, u.worker, u.clock, frame, crc))
    return seq
  }

  undo(job: string, worker: string, after: number): number {
    const seq = this.nextSeq(job)
    this.write(() => this.sql('UPDATE updates SET undone_at = ? WHERE job = ? AND worker = ? AND clock > ? AND undone_at IS NULL').run(seq, job, worker, after))
    return seq
  }

  snapshot(job: string, s: Omit<SnapshotRecord, 'seq'>): void {
    const seq = this.nextSeq(job)
    const params = Buffer.from(s.params.buffer, s.params.byteOffset, s.params.byteLength)
    this.write(() =>
      this.sql('INSERT INTO snapshots (job, seq, frontier, params, meta, crc, at) VALUES (?, ?, ?, ?, ?, ?, ?)').run(job, seq, s.frontier, params, JSON.stringify(s.meta), crc32(params), s.at),
    )
  }

  oldestFrontier(job: string): number | undefined {
    this.flush()
    const r = this.sql('SELECT MIN(frontier) AS f FROM snapshots WHERE job = ? AND frontier >= 0').get(job) as { f: number | null }
    return r.f ?? undefined
  }

  latestSnapshot(job: string, maxFrontier = Number.MAX_SAFE_INTEGER): SnapshotRecord | undefined {
    this.flush()
    const r = this.sql('SELECT * FROM snapshots WHERE job = ? AND frontier <= ? ORDER BY seq DESC LIMIT 1').get(job, maxFrontier) as SnapRow | undefined
    return r && { frontier: r.frontier, seq: r.seq, params: new Uint8Array(r.params), meta: JSON.parse(r.meta) as unknown, at: r.at }
  }

  updates(job: string, fromClock: number, toClock: number): LoggedUpdate[] {
    this.flush()
    const rows = this.sql('SELECT * FROM updates WHERE job = ? AND clock > ? AND clock <= ? ORDER BY seq').all(job, fromClock, toClock) as Row[]
    return rows.map(logged)
  }

  undoneSince(job: string, frontier: number, seq: number): LoggedUpdate[] {
    this.flush()
    const rows = this.sql('SELECT * FROM updates WHERE job = ? AND clock <= ? AND undone_at > ? ORDER BY seq').all(job, frontier, seq) as Row[]
    return rows.map(logged)
  }

  prune(job: string, keep: number): void {
    this.flush()
    const kept = this.sql('SELECT seq, frontier FROM snapshots WHERE job = ? AND frontier >= 0 ORDER BY seq DESC LIMIT ?').all(job, Math.max(1, keep)) as Array<{ seq: number; frontier: number }>
    if (!kept.length) return
    const oldest = kept[kept.length - 1]
    this.db.transaction(() => {
      // the job's starting model (frontier −1) stays: a job started from another's past model is rebuilt from it
      this.sql('DELETE FROM snapshots WHERE job = ? AND seq < ? AND frontier >= 0').run(job, oldest.seq)
      // what the oldest kept snapshot holds, except updates undone after it (a rollback from it takes those out)
      this.sql('DELETE FROM updates WHERE job = ? AND clock <= ? AND (undone_at IS NULL OR undone_at <= ?)').run(job, oldest.frontier, oldest.seq)
    })()
  }

  disk(job: string): DiskUse {
    this.flush()
    const u = this.sql('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(frame)), 0) AS b FROM updates WHERE job = ?').get(job) as { n: number; b: number }
    const s = this.sql('SELECT COUNT(*) AS n, COALESCE(SUM(LENGTH(params) + LENGTH(meta)), 0) AS b FROM snapshots WHERE job = ?').get(job) as { n: number; b: number }
    return { updates: u.n, snapshots: s.n, bytes: u.b + s.b }
  }

  /** Writes out everything buffered, in one transaction. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer)
    this.timer = null
    if (!this.pending.length || this.closed) return
    const batch = this.pending.splice(0)
    const seqs = [...this.seqs]
    this.db.transaction(() => {
      for (const w of batch) w()
      const put = this.sql('INSERT OR REPLACE INTO seqs (job, seq) VALUES (?, ?)')
      for (const [job, seq] of seqs) put.run(job, seq)
    })()
  }

  close(): void {
    if (this.closed) return
    this.flush()
    this.closed = true
    this.db.close()
  }

  private sql(text: string): Database.Statement {
    let st = this.statements.get(text)
    if (!st) this.statements.set(text, (st = this.db.prepare(text)))
    return st
  }

  private write(w: () => void): void {
    if (this.closed) throw new Error('the data store is closed')
    this.pending.push(w)
    if (this.pending.length >= FLUSH_RECORDS) this.flush()
    else
      this.timer ??= setTimeout(() => {
        try {
          this.flush()
        } catch (e) {
          this.log.error({ file: this.file, err: (e as Error).message }, 'writing to the data store failed: the buffered records are lost')
        }
      }, FLUSH_MS)
  }

  private nextSeq(job: string): number {
    const seq = (this.seqs.get(job) ?? -1) + 1
    this.seqs.set(job, seq)
    return seq
  }

  /** Drops records whose checksum fails: a damaged update and its job's later ones, a damaged snapshot alone. */
  private dropDamaged(): void {
    const firstBad = new Map<string, number>()
    for (const r of this.sql('SELECT job, seq, frame, crc FROM updates ORDER BY job, seq').iterate() as Iterable<Pick<Row, 'job' | 'seq' | 'frame' | 'crc'>>) {
      if (!firstBad.has(r.job) && crc32(r.frame) !== r.crc) firstBad.set(r.job, r.seq)
    }
    for (const [job, seq] of firstBad) {
      const n = this.sql('DELETE FROM updates WHERE job = ? AND seq >= ?').run(job, seq).changes
      this.log.warn({ job, seq, dropped: n }, 'damaged update records in the data store: dropped from the first bad one on')
    }
    for (const r of this.sql('SELECT job, seq, params, crc FROM snapshots').all() as Array<Pick<SnapRow, 'job' | 'seq' | 'params' | 'crc'>>) {
      if (crc32(r.params) === r.crc) continue
      this.sql('DELETE FROM snapshots WHERE job = ? AND seq = ?').run(r.job, r.seq)
      this.log.warn({ job: r.job, seq: r.seq }, 'a damaged snapshot in the data store: dropped')
    }
  }
}

function logged(r: Row): LoggedUpdate {
  return { seq: r.seq, worker: r.worker, clock: r.clock, frame: new Uint8Array(r.frame), undoneAt: r.undone_at }
}

/** Opens the file, checks it, and takes the exclusive lock a second coordinator would trip over. */
function openLocked(file: string): Database.Database {
  const db = new Database(file, { timeout: 0 })
  try {
    db.pragma('locking_mode = EXCLUSIVE')
    // frames are tens of KiB: big pages keep them off long overflow chains (takes effect on a new file)
    db.pragma('page_size = 65536')
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    const check = db.pragma('quick_check', { simple: true })
    if (check !== 'ok') throw new Error(`quick_check: ${String(check)}`)
    db.exec(SCHEMA)
  } catch (e) {
    db.close()
    if ((e as { code?: string }).code === 'SQLITE_BUSY') {
      throw new StoreLockedError(`another coordinator is using ${file} (stop it, or give this one another --data-dir)`)
    }
    throw e
  }
  return db
}
