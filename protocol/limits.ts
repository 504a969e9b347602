// Size limits every side enforces: message, payload, chunk and identifier bounds.

/** Largest data-channel message Chromium accepts without closing the channel; frames are cut to this. */
export const CHUNK_BYTES = 16 * 1024
/** Pause sending on a data channel while more than this is buffered; resume at the low-water mark. */
export const BUFFERED_HIGH_WATER = 1024 * 1024
export const BUFFERED_LOW_WATER = 256 * 1024
/** Largest update frame or aggregate (bytes) any job may use; a model whose worst-case update is larger is refused. */
export const MAX_UPDATE_BYTES = 32 * 1024 * 1024
/** Largest socket.io packet the coordinator reads. */
export const MAX_SOCKET_BYTES = MAX_UPDATE_BYTES + 64 * 1024
export const MAX_ID_LENGTH = 64
export const MAX_SDP_LENGTH = 32 * 1024
export const MAX_CANDIDATE_LENGTH = 2048
export const MAX_BATCH = 4096
export const MAX_WORKERS_PER_JOB = 256
export const MAX_TEXT = 256
/** Largest model description (JSON text) the API and the CLI take. */
export const MAX_MODEL_JSON = 64 * 1024
