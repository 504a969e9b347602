// Log lines for what a job's defences did: every quarantine and flag, rejections throttled per worker and code.
import type { Logger } from 'pino'
import { EDGE_LOG_EVERY_MS } from '../protocol/limits.ts'
import type { DefenceEvent } from './core/defence.ts'
import { LogThrottle } from './edge/log-throttle.ts'

/** A JobOptions.onEvent that writes to `log`; a worker repeating one refusal gets a line per interval with a count. */
export function defenceLogger(log: Logger): (e: DefenceEvent) => void {
  const lines = new LogThrottle(EDGE_LOG_EVERY_MS)
  return (e) => {
    switch (e.kind) {
      case 'quarantined':
        log.warn({ worker: e.worker, code: 'ERR_QUARANTINED', reason: e.reason, undone: e.undone }, 'worker quarantined, its updates since its last verified one taken back')
        return
      case 'report':
        if (e.flagged) log.warn({ worker: e.worker, by: e.by, clock: e.clock }, 'worker flagged: its direct deliveries keep failing; relaying all of its updates')
        else if (lines.hit(`report ${e.worker} ${e.report}`) !== null) log.info({ worker: e.worker, by: e.by, clock: e.clock, report: e.report }, 'a peer reported a direct delivery')
        return
      case 'rejected': {
        const n = lines.hit(`rejected ${e.worker} ${e.code}`)
        // a job that ended under messages on their way (an operator's cancel) is no sign of a bad tab
        const level = e.code === 'ERR_JOB_CLOSED' ? 'info' : 'warn'
        if (n !== null) log[level]({ worker: e.worker, type: e.type, code: e.code, reason: e.reason, ...(n > 1 ? { count: n } : {}) }, 'message refused')
        return
      }
      default: {
        const unreachable: never = e
        return unreachable
      }
    }
  }
}
