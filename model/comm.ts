// Poseidon's rule, per tensor, from live numbers: sufficient factors peer to peer, or dense deltas via the server.
import type { TensorSpec } from './layers/types.ts'
import type { ModelPlan } from './plan.ts'
import type { Path } from './update.ts'

/** What the choice depends on; all of it changes while a job runs. */
export interface CommNumbers {
  /** B, the rows of a batch: the rank of a dense kernel's batch gradient. */
  batch: number
  /** P, the workers that take part (each receives every other's update). */
  workers: number
  /** Q, the peers a worker sends to directly; the coordinator relays to the rest. Unset: all P − 1. */
  fanout?: number
}

/** Floats one worker moves per clock for tensor t on a path: what it sends and what it receives. */
export interface PathCost {
  sent: number
  received: number
}

/**
 * Per worker and clock, for a K×J tensor:
 * - `sf`: factors B·(K+J) go to the Q peers reached directly and to the coordinator (which keeps the replica and
 *   relays to the other P−1−Q), and the factors of the P−1 other workers come in: B(K+J)·(Q+1) out, B(K+J)·(P−1) in.
 * - `ps`: one dense delta K·J pushed, one aggregate K·J pulled, whatever P is.
 */
export function pathCost(t: TensorSpec, path: Path, n: CommNumbers): PathCost {
  if (path === 'ps') return { sent: t.size, received: t.size }
  const P = Math.max(1, n.workers)
  const Q = Math.min(n.fanout ?? P - 1, P - 1)
  const f = n.batch * (t.rows + t.cols)
  return { sent: f * (Q + 1), received: f * (P - 1) }
}

/** `sf` for a factorable tensor when its factors move fewer bytes than the server would; `ps` for everything else. */
export function choosePath(t: TensorSpec, n: CommNumbers): Path {
  if (!t.factorable) return 'ps'
  const sf = pathCost(t, 'sf', n)
  const ps = pathCost(t, 'ps', n)
  return sf.sent + sf.received < ps.sent + ps.received ? 'sf' : 'ps'
}

export function choosePaths(plan: ModelPlan, n: CommNumbers): Path[] {
  return plan.tensors.map((t) => choosePath(t, n))
}
