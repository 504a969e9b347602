// Every socket.io message between a worker tab and the coordinator: schemas, types and the event maps.
import { z } from 'zod'
import type { Binary } from './bytes.ts'
import type { Rejection } from './errors.ts'
import type { CommView, JobInfo } from './job.ts'
import { LassoMessageSchemas, type LassoJobInfo, type LassoReplies, type LassoServerEvents } from './lasso.ts'
import {
  MAX_BATCH,
  MAX_CANDIDATE_LENGTH,
  MAX_ID_LENGTH,
  MAX_SDP_LENGTH,
  MAX_TEXT,
  MAX_UPDATE_BYTES,
  MAX_PEER_LINKS,
  MAX_WORKERS_PER_JOB,
  MIN_DUTY,
} from './limits.ts'

const Id = z.string().min(1).max(MAX_ID_LENGTH).regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, _ and - only')
const Count = z.number().finite().min(0).max(2 ** 40)
const Bytes = z.custom<Binary>((v) => v instanceof Uint8Array || v instanceof ArrayBuffer, 'binary payload')

/** WebRTC signaling as simple-peer emits it (trickle ICE). */
export const SignalDataSchema = z.discriminatedUnion('type', [
  z.object({ type: z.enum(['offer', 'answer']), sdp: z.string().max(MAX_SDP_LENGTH) }),
  z.object({
    type: z.literal('candidate'),
    candidate: z.object({
      candidate: z.string().max(MAX_CANDIDATE_LENGTH),
      sdpMid: z.string().max(MAX_TEXT).nullable().optional(),
      sdpMLineIndex: z.number().int().min(0).max(65535).nullable().optional(),
      usernameFragment: z.string().max(MAX_TEXT).nullable().optional(),
    }),
  }),
])
export type SignalData = z.infer<typeof SignalDataSchema>

export const LinkState = z.enum(['p2p', 'relay'])
export type LinkState = z.infer<typeof LinkState>

export const HelloSchema = z.object({
  type: z.literal('hello'),
  jobId: Id.optional(),
  engine: z.enum(['webgpu', 'cpu']),
  adapter: z.string().max(MAX_TEXT).optional(),
  agent: z.string().max(MAX_TEXT).optional(),
})
export const SignalSchema = z.object({ type: z.literal('signal'), to: Id, data: SignalDataSchema })
/** `engine`: the engine the worker trains with, where it differs from the guess in hello (both timed at join). */
export const ReadySchema = z.object({ type: z.literal('ready'), engine: z.enum(['webgpu', 'cpu']).optional() })
/**
 * `ahead`: the lease the worker is on; it asks for the one after it, to fetch that shard while it trains (issue 8:
 * the shard boundary then costs no round trip). Granted only while the pool holds more shards than workers.
 */
export const LeaseSchema = z.object({ type: z.literal('lease'), ahead: Id.optional() })
/**
 * What the sender had applied when it computed an update: per peer, the last update of that peer's chain it held
 * (it applies each peer's updates in chain order), every server aggregate of clocks below `psUpTo`, and the job's
 * first `corrections` corrections (absent: none).
 */
export const ViewSchema = z.object({
  vc: z.record(Id, z.number().int().min(-1)).refine((o) => Object.keys(o).length <= MAX_WORKERS_PER_JOB, 'too many peers'),
  psUpTo: z.number().int().min(0),
  corrections: z.number().int().min(0).optional(),
})
export type View = z.infer<typeof ViewSchema>
export const UpdateSchema = z.object({
  type: z.literal('update'),
  /** The batch's summed loss and hits, before the update. */
  loss: z.number().finite().min(0),
  correct: z.number().int().min(0).max(MAX_BATCH),
  /** The peers the sender queued the frame's sf parts for on data channels; the coordinator relays to the rest. */
  p2pTo: z.array(Id).max(MAX_PEER_LINKS),
  /** A frame v2 (PROTOCOL.md) with one part per tensor: clock, prev, rows and the parts travel inside. */
  frame: Bytes.refine((b) => b.byteLength <= MAX_UPDATE_BYTES, 'frame too large'),
  view: ViewSchema,
})
export const ShardDoneSchema = z.object({ type: z.literal('shard-done'), lease: Id })
export const ResendSchema = z.object({ type: z.literal('resend'), from: Id, after: z.number().int().min(-1) })
/**
 * A direct receiver's word on an update the coordinator confirmed: `missing` (it never came on the data channel) or
 * `mismatch` (what came differs from what the coordinator accepted). The coordinator sends the real one.
 */
export const ReportSchema = z.object({ type: z.literal('report'), from: Id, clock: z.number().int().min(0), kind: z.enum(['missing', 'mismatch']) })
export const LinkSchema = z.object({ type: z.literal('link'), peer: Id, state: LinkState })
/** What a worker counts of its own traffic: data channels, the coordinator's relay and aggregates, its uploads. */
export const WorkerBytesSchema = z.object({ p2pSent: Count, p2pReceived: Count, relayReceived: Count, psReceived: Count, coordinatorSent: Count })
export type WorkerBytes = z.infer<typeof WorkerBytesSchema>
/**
 * Where a worker's clocks went, in ms summed over `clocks` clocks since it joined: its engine's steps, encoding and
 * sending its updates, applying peers' updates and server aggregates, waiting on the SSP bound and missing updates, and
 * the rest of the clock (the loop, leases, shard loads, the event loop's other work). `rows`: the rows those clocks
 * covered (the coordinator sizes the worker's next leases from engineMs / rows and the rest per clock).
 */
export const ClockTimeSchema = z.object({ clocks: Count, rows: Count, engineMs: Count, sendMs: Count, applyMs: Count, waitMs: Count, otherMs: Count })
export type ClockTime = z.infer<typeof ClockTimeSchema>
export const StatsSchema = z.object({
  type: z.literal('stats'),
  samplesPerSecond: Count,
  bytes: WorkerBytesSchema,
  time: ClockTimeSchema.optional(),
  /** The volunteer's throttle: the fraction of the time the tab computes (1 = flat out; README: Lending a GPU). */
  duty: z.number().min(MIN_DUTY).max(1).optional(),
})
/**
 * The volunteer pressed Pause (`paused`: true) or Resume. Paused, an SGD worker's shards go back to the pool and it
 * stops counting toward the min clock (it holds nobody back) but keeps its replica current; a Lasso worker's blocks
 * go to the others. Resumed, it takes work again: SGD at the job's min clock with its next lease.
 */
export const PauseSchema = z.object({ type: z.literal('pause'), paused: z.boolean() })

/** Messages a worker sends, each on the socket.io event named by its `type`, each answered through an ack. */
export const ClientMessageSchemas = {
  hello: HelloSchema,
  signal: SignalSchema,
  ready: ReadySchema,
  lease: LeaseSchema,
  update: UpdateSchema,
  'shard-done': ShardDoneSchema,
  resend: ResendSchema,
  report: ReportSchema,
  link: LinkSchema,
  stats: StatsSchema,
  pause: PauseSchema,
  ...LassoMessageSchemas,
} as const
export type ClientMessageType = keyof typeof ClientMessageSchemas
export type ClientMessage = { [T in ClientMessageType]: z.infer<(typeof ClientMessageSchemas)[T]> }[ClientMessageType]
export type Msg<T extends ClientMessageType> = z.infer<(typeof ClientMessageSchemas)[T]>

/** An update as the coordinator forwards it (relay, catch-up, resend): a frame holding its sf parts only. */
export interface RelayedUpdate {
  from: string
  /** An ArrayBuffer when a browser receives it. */
  frame: Binary
}

export interface Confirm {
  from: string
  clock: number
  digest: string
}

/** The parameter server's sum of every ps part with clock in [from, to): one per worker per move of the min clock. */
export interface Aggregate {
  from: number
  to: number
  /** A parts table (PROTOCOL.md) of dense ps parts. */
  parts: Binary
  /**
   * The clock view of the min move this aggregate completes, handled as a `clock` event right after the aggregate;
   * no separate `clock` event is sent then (one message per worker per clock instead of two).
   */
  view?: ClockView
}

/**
 * Clock table: the job's min clock, and per worker the clock of its last update that carried sf parts (its chain).
 * In `ready`'s answer every worker with one; in a `clock` event only those that moved since the event before.
 */
export interface ClockView {
  min: number
  last: Record<string, number>
  /** The job's pace as the min moved (LeaseGrant.clockMs, holdMs), newer than a long lease's. */
  pace?: JobPace
}

/** The clock length a worker sizes its rows to, and how long it may hold the min (coordinator/core/pace.ts). */
export interface JobPace {
  clockMs: number | null
  holdMs: number
}

/**
 * A quarantined worker's contribution since its last verified update, taken back on every replica: its sf frames
 * with clock > `after` (each replica negates those it applied and drops the rest), and `ps`, a parts table of dense
 * parts that undo its server deltas of those clocks (the aggregates that summed them in, or will).
 */
export interface Correction {
  /** 0, 1, 2…: a view counts the corrections it holds. */
  seq: number
  from: string
  after: number
  /** The logged sf frames of `from` with clock > after, packed (`packBinaries`). */
  frames: Binary
  ps: Binary
}

export interface Snapshot {
  clock: number
  /** The arena as bytes: every update with clock < psFrom, and the sf parts of those listed in `pending`. */
  model: Binary
  vc: Record<string, number>
  /**
   * Updates (sf parts) the model does not hold yet but the vector clock counts: their senders, and their frames in
   * the same order packed into one binary (`packBinaries`), since a socket.io packet carries only a few attachments.
   */
  pending: { from: string[]; frames: Binary }
  view: ClockView
  /** The first clock whose server aggregate the worker will receive. */
  psFrom: number
  /** Corrections the model holds already. */
  corrections: number
}

export interface LeaseGrant {
  id: string
  shard: number
  epoch: number
  n: number
  url: string
  clock: number
  /**
   * The rate of an update of B rows: the job's schedule at the grant, divided by the workers then, times B / the mean
   * rows of the workers' updates. Every row weighs the same: an update of r rows (1 to `maxRowsOf(hyper)`) is scaled
   * by −lr / B per row, a rate of lr · r / B.
   */
  lr: number
  /**
   * The clock length the job aims at (ms; null until some worker reported its speed): a worker sizes its updates'
   * rows so that its clock takes about this long (client/train/pace.ts), so no device holds the others back.
   */
  clockMs: number | null
  /**
   * ms a worker may hold the min clock before it goes on probation (0: never); a worker whose last update went out
   * longer than half this ago waits for its next one's answer, which may re-base it (`Replies.update`). Both come
   * again with every clock view (`ClockView.pace`).
   */
  holdMs: number
}

/** An SGD job's answer to hello: the job, the peers to link with, the tensors' paths. */
export interface SgdHello {
  ok: true
  app: 'sgd'
  workerId: string
  job: JobInfo
  peers: string[]
  paths: CommView
}

/** A Lasso job's answer to hello. */
export interface LassoHello {
  ok: true
  app: 'lasso'
  workerId: string
  job: LassoJobInfo
}

/** Acks: what each request answers when it succeeds. */
export interface Replies extends LassoReplies {
  /** By the job's app: a Lasso job's worker goes on with `lasso-ready` (protocol/lasso.ts). */
  hello: SgdHello | LassoHello
  signal: { ok: true }
  ready: { ok: true } & Snapshot
  lease: { ok: true; lease: LeaseGrant | null; done: boolean }
  /** `clock`: what the update counts as; a joiner's (or a probationer's) first update past the min is re-based to the min. */
  update: { ok: true; clock: number }
  'shard-done': { ok: true }
  resend: { ok: true; count: number }
  report: { ok: true; relayed: boolean }
  link: { ok: true }
  stats: { ok: true }
  /** `returned`: the shards (SGD) or blocks (Lasso) that went to others. */
  pause: { ok: true; returned: number }
}
export type Reply<T extends ClientMessageType> = Replies[T] | Rejection

/** Events the coordinator pushes to workers. */
export interface ServerEvents extends LassoServerEvents {
  'peer-joined': (m: { worker: string }) => void
  'peer-left': (m: { worker: string; last: number }) => void
  signal: (m: { from: string; data: SignalData }) => void
  update: (m: RelayedUpdate) => void
  /**
   * To each peer the sender named in `p2pTo`: the coordinator accepted the sender's update of this clock, and its sf
   * frame has this SHA-256 (hex). A peer applies a frame from a data channel only once it matches.
   */
  confirm: (m: Confirm) => void
  /** Carries the clock view whose min it completes (`view`); a min move with no aggregate is a `clock` event. */
  aggregate: (m: Aggregate) => void
  clock: (m: ClockView) => void
  /** A quarantined worker's contribution, undone; sent before the `peer-left` that names it. */
  correction: (m: Correction) => void
  /** The tensors' paths changed (workers joined or left). */
  paths: (m: CommView) => void
  /** The job's state changed; `reason` says why it is paused or failed (an operator's pause or cancel). */
  job: (m: { state: JobInfo['state']; reason?: string }) => void
  evicted: (m: Rejection) => void
  /** The answer to a message sent without an ack function. */
  rejected: (m: Rejection) => void
  /**
   * The worker held the min clock too long (`LeaseGrant.holdMs`) and stopped counting toward it: its next update
   * waits for its answer, which says the clock it counted at.
   */
  probation: (m: { clock: number }) => void
}

/** socket.io's client-to-server event map, built from the schemas. */
export type ClientEvents = {
  [T in ClientMessageType]: (msg: Msg<T>, ack: (reply: Reply<T>) => void) => void
}
