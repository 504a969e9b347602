// The error codes a coordinator or a peer answers with; listed for users in the README.

export const ERROR_CODES = {
  ERR_BAD_MESSAGE: 'the message does not match its schema',
  ERR_TOO_LARGE: 'the message or its payload exceeds the size limit',
  ERR_NOT_FINITE: 'a payload holds NaN or Infinity',
  ERR_BAD_SHAPE: "a payload's parts do not match the job's model: unknown tensor, wrong part count or order, wrong size for the batch rows",
  ERR_BAD_PATH: "a part's path or form is not allowed for its tensor (factors only for dense kernels on the sf path, dense deltas on ps)",
  ERR_BAD_MODEL: 'the model description is invalid: unknown layer, shapes that do not chain, or too big for the limits',
  ERR_CLOCK: 'the clock is not the next one this worker may use, or runs ahead of the staleness bound',
  ERR_REBASED: 'an update sent without waiting for its answer was counted at a later clock (the worker was on probation); join again',
  ERR_NOT_JOINED: 'the worker sent this before hello/ready',
  ERR_NOT_IN_JOB: 'the target worker or job is not the sender’s own job',
  ERR_UNKNOWN_JOB: 'no such job',
  ERR_JOB_CLOSED: 'the job is done, failed or paused and takes no more work',
  ERR_LEASE: 'the shard or column-block lease is not held by this worker (expired, moved or never granted)',
  ERR_NOT_SCHEDULED: 'a Lasso result for a round or coordinates not scheduled to this worker, or answered already',
  ERR_STALLED: 'the worker made no progress within the stall timeout and was removed',
  ERR_LOG_TRUNCATED: 'the requested updates are no longer in the coordinator’s log',
  ERR_PEER_SIGNAL: 'a WebRTC link to a peer could not be opened in time; its updates go through the relay',
  ERR_PEER_FRAME: 'a data-channel frame from a peer was malformed and was dropped',
  ERR_NO_WEBGPU: 'this browser has no WebGPU; the CPU implementation runs instead',
  ERR_GPU_LOST: 'the GPU device was lost',
  ERR_TIMEOUT: 'a request got no answer before its deadline',
  ERR_DISCONNECTED: 'the connection to the coordinator dropped; the tab rejoins',
  ERR_MODEL_MOVED: 'the model changed since this model.json was fetched; fetch model.json again',
  ERR_UNAUTHORIZED: 'this API call needs the operator token',
  ERR_BAD_UPDATE: 'the update failed a check an honest update always passes (structure, norm bound, re-computation); the sender is quarantined',
  ERR_QUARANTINED: 'the worker sent a bad or two-faced update: it was removed, banned from the job, and its recent updates undone',
  ERR_BANNED: 'this session or address was quarantined from the job and may not rejoin it',
  ERR_RATE_LIMITED: 'too many messages from this connection; slow down (the connection is closed if it keeps on)',
  ERR_ADDRESS_LIMIT: 'too many connections from this network address',
  ERR_READY_TIMEOUT: 'the worker said hello but was not ready in time; its place is given to others',
  ERR_INTERNAL: 'the coordinator failed on this message; nothing changed',
} as const

export type ErrorCode = keyof typeof ERROR_CODES

/** The answer to a rejected request: nothing changed on the coordinator. */
export interface Rejection {
  ok: false
  code: ErrorCode
  reason: string
}

export function reject(code: ErrorCode, reason: string = ERROR_CODES[code]): Rejection {
  return { ok: false, code, reason }
}

/** An Error that carries one of the codes above. */
export class TabgridError extends Error {
  readonly code: ErrorCode
  constructor(code: ErrorCode, message: string = ERROR_CODES[code]) {
    super(`${code}: ${message}`)
    this.code = code
  }
}
