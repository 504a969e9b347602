// A job core's outbox for tests: it records every event and eviction instead of sending them.
import type { Outbox } from '../../coordinator/core/job.ts'
import type { Rejection } from '../../protocol/errors.ts'

export class FakeOutbox implements Outbox {
  events: Array<{ to: string; event: string; msg: unknown }> = []
  evicted: Array<{ worker: string; why: Rejection }> = []
  send(to: string, event: string, msg: unknown) {
    this.events.push({ to, event, msg })
  }
  evict(worker: string, why: Rejection) {
    this.evicted.push({ worker, why })
  }
  of(event: string) {
    return this.events.filter((e) => e.event === event)
  }
}
