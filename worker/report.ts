// The worker's lines: progress for people on stderr, and the same as JSON objects on stdout for scripts (--json);
// an SGD job's clocks and samples, a Lasso job's rounds, blocks and coordinate updates.
import type { LassoStatus, WorkerStatus } from '../client/train/status.ts'

export interface Line {
  human: string
  json: Record<string, unknown>
}

/** One progress line: where the worker is in its job, how fast, and what it moves. */
export function statusLine(s: WorkerStatus, engine: 'webgpu' | 'cpu'): Line {
  if (s.lasso) return lassoStatusLine(s, s.lasso, engine)
  const peers = Object.keys(s.peers).length
  const loss = s.lastLoss === null ? '–' : s.lastLoss.toFixed(4)
  return {
    human: [
      `job ${s.job?.id} · worker ${s.workerId} · ${s.phase}`,
      `clock ${s.clock} (slowest ${s.minClock})`,
      ...(s.shard >= 0 ? [`epoch ${s.epoch + 1} shard ${s.shard}`] : []),
      `${s.samplesPerSecond.toFixed(0)} samples/s`,
      `loss ${loss}`,
      engine,
      `${peers} peer${peers === 1 ? '' : 's'} (relay)`,
    ].join(' · '),
    json: {
      type: 'status',
      job: s.job?.id,
      worker: s.workerId,
      phase: s.phase,
      clock: s.clock,
      minClock: s.minClock,
      epoch: s.epoch,
      shard: s.shard,
      samples: s.samples,
      samplesPerSecond: +s.samplesPerSecond.toFixed(2),
      loss: s.lastLoss,
      engine,
      peers,
      bytes: { ...s.bytes },
    },
  }
}

export interface SessionEndReport {
  status: WorkerStatus
  engine: 'webgpu' | 'cpu'
  /** done: the job finished; left: interrupted (SIGINT); error: something ended the session (it may rejoin). */
  outcome: 'done' | 'left' | 'error'
  error?: Error & { code?: string }
  saved?: { file: string; params: number }
}

/** The line at the end of a session on a job. */
export function endLine(r: SessionEndReport): Line {
  const s = r.status
  const what = r.outcome === 'done' ? 'done' : r.outcome === 'left' ? 'left' : `stopped: ${r.error?.message ?? s.error}`
  if (s.lasso) return lassoEndLine(r, s.lasso, what)
  const loss = s.lastLoss === null ? '' : `, last batch loss ${s.lastLoss.toFixed(4)}`
  const saved = r.saved ? `; model saved to ${r.saved.file} (${r.saved.params} f32, little-endian)` : ''
  return {
    human: `job ${s.job?.id} ${what}: worker ${s.workerId}, ${s.time.clocks} clocks, ${s.samples} samples${loss}, ${s.applied} peers' updates applied (relay ${s.bytes.relayReceived} B, server ${s.bytes.psReceived} B)${saved}`,
    json: {
      type: 'end',
      job: s.job?.id,
      worker: s.workerId,
      outcome: r.outcome,
      ...(r.error ? { error: { code: r.error.code ?? null, reason: r.error.message } } : {}),
      clock: s.clock,
      clocks: s.time.clocks,
      samples: s.samples,
      loss: s.lastLoss,
      applied: s.applied,
      aggregates: s.aggregates,
      engine: r.engine,
      bytes: { ...s.bytes },
      ...(r.saved ? { saved: r.saved.file, params: r.saved.params } : {}),
    },
  }
}

/** A Lasso worker's progress line. */
function lassoStatusLine(s: WorkerStatus, l: LassoStatus, engine: 'webgpu' | 'cpu'): Line {
  return {
    human: [
      `Lasso job ${s.job?.id} · worker ${s.workerId} · ${s.phase}`,
      `round ${l.round} (residual after ${l.view})`,
      `${l.blocks.length} block${l.blocks.length === 1 ? '' : 's'} (${l.columns} columns)`,
      `${l.tasks} tasks, ${l.updates} coordinate updates`,
      engine,
    ].join(' · '),
    json: { type: 'status', app: 'lasso', job: s.job?.id, worker: s.workerId, phase: s.phase, engine, ...lassoFields(l) },
  }
}

/** A Lasso worker's line at the end of its session. */
function lassoEndLine(r: SessionEndReport, l: LassoStatus, what: string): Line {
  const s = r.status
  return {
    human: `Lasso job ${s.job?.id} ${what}: worker ${s.workerId}, ${l.tasks} tasks, ${l.updates} coordinate updates, last round ${l.round}, ${l.blocks.length} blocks held (${l.columns} columns); β is kept by the coordinator`,
    json: {
      type: 'end',
      app: 'lasso',
      job: s.job?.id,
      worker: s.workerId,
      outcome: r.outcome,
      ...(r.error ? { error: { code: r.error.code ?? null, reason: r.error.message } } : {}),
      engine: r.engine,
      ...lassoFields(l),
    },
  }
}

function lassoFields(l: LassoStatus): Record<string, unknown> {
  return { round: l.round, view: l.view, tasks: l.tasks, updates: l.updates, blocks: [...l.blocks], columns: l.columns, lambda: l.lambda }
}
