// What the volunteer page says this tab is doing: one state word for machines and one sentence for people, from the
// worker's status and what the page knows between sessions. No DOM: plain decisions over the status.
import type { WorkerStatus } from '../train/status.ts'

/** The page's states, as `data-state` on #state and #phase carries them (the e2e specs read these). */
export type PageState =
  | 'starting'
  | 'connecting'
  | 'reconnecting'
  | 'waiting-for-job'
  | 'no-job'
  | 'waiting-to-start'
  | 'operator-paused'
  | 'training'
  | 'paused'
  | 'done'
  | 'cancelled'
  | 'left'
  | 'error'

/** How the state sentence looks: `error` only for real errors (a lost GPU, an eviction, …). */
export type Tone = 'busy' | 'wait' | 'paused' | 'done' | 'error'

export interface PageView {
  state: PageState
  tone: Tone
  sentence: string
}

/** What the page knows beyond the session's status. */
export interface PageContext {
  /** The tab works on one job only (?job=ID): when that job is over, the page stops. */
  tied: boolean
  /** The person pressed Leave. */
  left: boolean
  /**
   * The last session found no job taking workers and the page waits for one: the next session's connecting (and its
   * own "no job") is more of the same waiting, not news.
   */
  waitingForJob: boolean
}

/** Error codes that mean "no job is taking workers here now": a volunteer's normal wait, never an error for them. */
const NO_JOB = new Set(['ERR_UNKNOWN_JOB', 'ERR_JOB_CLOSED'])
/** Error codes after which the page joins again by itself (afterSession's `dropped`; so is ERR_TIMEOUT before hello's answer). */
const DROPPED = new Set(['ERR_DISCONNECTED', 'ERR_REBASED'])

/** The code an error message starts with (TabgridError writes `CODE: reason`); '' when it names none. */
export function errorCode(error: string | undefined): string {
  return /^(ERR_[A-Z_]+):/.exec(error ?? '')?.[1] ?? ''
}

/** An error message without its code, for people. */
function reasonOf(error: string): string {
  return error.replace(/^ERR_[A-Z_]+:\s*/, '')
}

/** Sentences for the errors a volunteer may meet, by code. */
const ERROR_SENTENCES: Partial<Record<string, string>> = {
  ERR_GPU_LOST: 'The GPU stopped working (the device was lost). Reload the page to help again.',
  ERR_NO_WEBGPU: 'WebGPU could not run here. Reload the page to help again (with ?engine=cpu it uses the CPU).',
  ERR_STALLED: 'The coordinator removed this tab: it made no progress in time (was the tab in the background, or the computer asleep?). Reload the page to help again.',
  ERR_READY_TIMEOUT: 'The coordinator gave this tab’s place to others: it took too long to get ready. Reload the page to try again.',
  ERR_QUARANTINED: 'The coordinator refused this tab’s work (an update failed its checks) and removed it from the job.',
  ERR_BANNED: 'This tab may not rejoin the job: work from this address was refused earlier.',
  ERR_ADDRESS_LIMIT: 'Too many tabs from this network are helping already; close this one or try later.',
  ERR_TIMEOUT: 'The coordinator did not answer in time. Reload the page to help again.',
}

/**
 * The state word and sentence for a status. Session errors that only mean "no job right now" are a wait, and a
 * dropped connection is a reconnect (the page joins again by itself): neither is shown as an error.
 *
 * @example
 * describeState({ ...initialStatus(), phase: 'error', error: 'ERR_UNKNOWN_JOB: no job' }, { tied: false, left: false, waitingForJob: false })
 * // { state: 'waiting-for-job', tone: 'wait', sentence: 'No job is running right now: …' }
 */
export function describeState(s: WorkerStatus, ctx: PageContext): PageView {
  if (ctx.left) return { state: 'left', tone: 'done', sentence: 'You left: this tab does no more work. Reload the page to help again.' }
  const code = s.phase === 'error' ? errorCode(s.error) : ''
  if (NO_JOB.has(code) || (ctx.waitingForJob && (s.phase === 'starting' || s.phase === 'connecting'))) {
    return ctx.tied
      ? { state: 'no-job', tone: 'wait', sentence: 'This job is not taking workers (it is over, or unknown here). Open the page without ?job= to help whichever job runs.' }
      : { state: 'waiting-for-job', tone: 'wait', sentence: 'No job is running right now: waiting for the next one. Keep this tab open and it joins when a job starts.' }
  }
  if (DROPPED.has(code)) return { state: 'reconnecting', tone: 'wait', sentence: 'Lost the connection to the coordinator: joining again…' }
  if (code === 'ERR_TIMEOUT' && !s.workerId) return { state: 'reconnecting', tone: 'wait', sentence: 'The coordinator cannot be reached right now: trying again shortly…' }
  const job = s.job
  const reason = s.jobReason ? ` (${s.jobReason})` : ''
  switch (s.phase) {
    case 'starting':
      return { state: 'starting', tone: 'wait', sentence: 'Getting ready…' }
    case 'connecting':
      return { state: 'connecting', tone: 'wait', sentence: 'Connecting to the coordinator…' }
    case 'left':
      return { state: 'left', tone: 'done', sentence: 'You left: this tab does no more work. Reload the page to help again.' }
    case 'error':
      return { state: 'error', tone: 'error', sentence: ERROR_SENTENCES[code] ?? `Stopped by an error: ${reasonOf(s.error ?? 'unknown error')}` }
    case 'done': {
      const next = ctx.tied ? '' : ' This tab joins the next job when one starts.'
      if (job?.state === 'failed') {
        const cancelled = /cancel/i.test(s.jobReason ?? '')
        const what = cancelled ? 'The job was cancelled by its operator' : `The job was stopped${reason}`
        return { state: 'cancelled', tone: 'done', sentence: `${what} — thank you for your help!${next}` }
      }
      return { state: 'done', tone: 'done', sentence: `The job is done — thank you for lending your computer!${next}` }
    }
    default:
      break
  }
  // at work on a job: the volunteer's pause first (it holds even while the operator's pause does), then the operator's
  if (s.paused || s.phase === 'paused') {
    const finishing = s.phase !== 'paused' && s.phase !== 'waiting' ? ' Finishing the current step…' : ' This tab holds no work; press Resume to go on.'
    return { state: 'paused', tone: 'paused', sentence: `Paused (by you).${finishing}` }
  }
  if (s.phase === 'waiting' && job?.state === 'paused') {
    const why = s.jobReason && !/^paused by the operator$/i.test(s.jobReason) ? reason : ''
    return { state: 'operator-paused', tone: 'paused', sentence: `Paused by the job’s operator${why}. This tab waits and goes on when they resume it.` }
  }
  if (s.phase === 'waiting') {
    const need = job ? ` It starts once ${job.hyper.minWorkers} tab${job.hyper.minWorkers === 1 ? ' has' : 's have'} joined.` : ''
    return { state: 'waiting-to-start', tone: 'wait', sentence: `Waiting for the job to start.${need}` }
  }
  if (s.phase === 'linking') return { state: 'training', tone: 'busy', sentence: 'Joining the job: linking to the other tabs…' }
  // one sentence for the whole of the work: the phases a clock goes through (waiting for slower tabs, for updates,
  // for a free shard) change many times a second and would flood a screen reader; #phase's data-phase has them
  const duty = s.duty < 1 ? `, ${Math.round(s.duty * 100)} % of the time` : ''
  const what = s.app === 'lasso' ? 'Solving the job’s Lasso problem with other tabs' : 'Training the job’s model with other tabs'
  return { state: 'training', tone: 'busy', sentence: `${what}${duty}.` }
}
