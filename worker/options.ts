// What `tabgrid worker` takes and returns: the seam between the CLI (coordinator/cli.ts, compiled for Node alone) and
// the worker itself (worker/main.ts, which runs the client's WebGPU code and so needs the WebGPU types).
import type { EngineAsk } from '../protocol/job.ts'

export interface WorkerOptions {
  /** The coordinator's URL, e.g. http://127.0.0.1:8080. */
  server: string
  /** Work on this job only; without it the worker is a volunteer that joins whatever job takes workers. */
  job?: string
  engine: EngineAsk
  /** Leave after one job instead of waiting for the next. */
  once?: boolean
  /** One JSON line on stdout every status period, one at the end of each job, one at exit. */
  json?: boolean
  /** Write each finished job's model there: the arena as little-endian f32 (`{job}` in the path: the job's id). */
  saveModel?: string
  /** Seconds between progress lines. */
  statusEverySec?: number
}

/** Where the worker's lines go: `out` is stdout (the JSON lines), `err` is stderr (progress for people). */
export interface WorkerOutput {
  out(line: string): void
  err(line: string): void
}

/**
 * Runs the worker until it is done (its job finished with --job or --once), `signal` aborts it (SIGINT: it leaves
 * cleanly) or an error ends it. Resolves with the exit status: 0 done or interrupted, 1 a coded error ended the
 * work, 2 it could not start (the engine asked for is not there).
 */
export type RunWorker = (opts: WorkerOptions, output: WorkerOutput, signal?: AbortSignal) => Promise<number>
