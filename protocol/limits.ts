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
/** Coordinates one Lasso worker may be given in a round (`hyper.picks`). */
export const MAX_LASSO_PICKS = 256
/** Column blocks one Lasso job may have (and a `lasso-hold` may name). */
export const MAX_LASSO_BLOCKS = 65_536
/** A fast worker's updates carry up to this many times the job's B rows (a slow one's down to 1): protocol/job.ts. */
export const ROWS_SPREAD = 4
/** Leases a worker holds at most: the shard it trains on and the next, fetched meanwhile (`lease` with `ahead`). */
export const MAX_LEASES = 2
/** Ready workers one job takes (tabs still linking are capped apart, MAX_LINKING_PER_JOB). */
export const MAX_WORKERS_PER_JOB = 4096
/**
 * Peers a worker links to (WebRTC data channels) by default (`hyper.peerLinks`): a joiner is handed at most this many
 * members, none already at this many links, so the mesh has bounded degree at any size; updates reach the others
 * through the coordinator (relay or server).
 */
export const DEFAULT_PEER_LINKS = 16
/** The most `hyper.peerLinks` may be (a browser holds this many WebRTC connections well), and the longest `p2pTo`. */
export const MAX_PEER_LINKS = 64
export const MAX_TEXT = 256
/** Largest model description (JSON text) the API and the CLI take. */
export const MAX_MODEL_JSON = 64 * 1024

// ── The socket edge (README: "Defences"): what one connection may send, hold and try. ──
/** Tokens a worker's socket earns per second, and the most it can save up (link setup's signal burst fits; a burst
 * arriving at once is handled in one go, so it stays small enough not to stall the API: ~2,000 stats take ~40 ms). */
export const RATE_TOKENS_PER_SECOND = 5_000
export const RATE_BURST_TOKENS = 2_000
/** What messages cost: most 1 token; hello and ready this much; update this plus its size; resend and report this
 * plus what they make the coordinator send back. */
export const RATE_COST_JOIN = 5
export const RATE_COST_UPDATE = 2
export const RATE_COST_RESEND = 10
/** Bytes of an update's frame that cost one more token. */
export const RATE_BYTES_PER_TOKEN = 64 * 1024
/**
 * Bytes the coordinator sends back on a socket's behalf (updates it asked to be resent) that cost one token: a socket
 * can make it send at most this × RATE_TOKENS_PER_SECOND a second (20 MB/s), and an honest catch-up of a few hundred
 * frames fits the burst. At 64 KiB a token a resend storm held the coordinator busy for 3 s before it was limited.
 */
export const RATE_RESENT_BYTES_PER_TOKEN = 4 * 1024
/** A socket refused this many messages for its rate within RATE_WINDOW_MS is closed. */
export const RATE_REJECTIONS_TO_CLOSE = 200
export const RATE_WINDOW_MS = 10_000
/** Repeated refusals log one line per socket (or address) per this many ms, saying how many it stands for. */
export const EDGE_LOG_EVERY_MS = 10_000
/** Most concurrent sockets from one address (an IPv6 /64 counts as one). */
export const MAX_SOCKETS_PER_ADDRESS = 32
/** A connection that has not opened socket.io's namespace this long after connecting is closed. */
export const CONNECT_TIMEOUT_MS = 10_000
/** A socket that has not said hello this long after connecting is closed; one over its address's cap sooner. */
export const HELLO_TIMEOUT_MS = 30_000
export const OVER_LIMIT_HELLO_TIMEOUT_MS = 2_000
/** A worker that said hello but not ready this long after is evicted (never less than 3 × the job's linkTimeoutMs). */
export const READY_TIMEOUT_MS = 60_000
export const READY_TIMEOUT_LINK_FACTOR = 3
/** An address is banned from a job once this many of its workers were quarantined there (NATs share addresses). */
export const BAN_AFTER_QUARANTINES = 2
/** Stall evictions from an address are remembered this long; a joiner from it waits 2^k × base for its first lease. */
export const STALL_MEMORY_MS = 10 * 60_000
export const STALL_BACKOFF_BASE_MS = 4_000
export const STALL_BACKOFF_MAX_MS = 5 * 60_000
/** After its k-th flood cut-off within FLOOD_MEMORY_MS, an address's new connections are refused for base · 2^(k−1). */
export const FLOOD_BACKOFF_BASE_MS = 2_000
export const FLOOD_BACKOFF_MAX_MS = 5 * 60_000
export const FLOOD_MEMORY_MS = 10 * 60_000
/** Addresses remembered per job for bans and back-off; the oldest are forgotten past this. */
export const MAX_ADDRESS_RECORDS = 10_000
/**
 * Departed workers a job remembers (their engine and last clock for the job view, a late p2pTo or report naming them);
 * older ones are forgotten, and so are leases returned past this many. Keeps a job's memory flat under churn.
 */
export const MAX_DEPARTED = 1024
/** Raw socket.io packets a connection may send, as a multiple of its message rate and burst; over it, it is closed. */
export const PACKET_RATE_FACTOR = 2
/** Binary attachments one socket.io packet may announce (an update carries one frame). */
export const MAX_SOCKET_ATTACHMENTS = 1
/** Longest text socket.io packet (characters): a signal's SDP with its JSON escapes fits many times over. */
export const MAX_TEXT_PACKET_CHARS = 4 * MAX_SDP_LENGTH

/** The lowest throttle a volunteer may set: the tab computes this fraction of the time (client/train/throttle.ts). */
export const MIN_DUTY = 0.05

/** Progress points a job keeps (one a second; thinned to every other point when full): about 2 h at full rate. */
export const MAX_PROGRESS_POINTS = 7200

/** The largest file an operator may upload for a job's data (POST /api/uploads; --max-upload-mb). */
export const MAX_UPLOAD_BYTES = 256 * 2 ** 20
