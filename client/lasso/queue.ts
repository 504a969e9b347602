// One strictly sequential async queue: a Lasso worker's pushed events run one at a time, in the order they came.

/**
 * Runs pushed jobs one after another (each awaited before the next starts), once `open()` was called. The first job
 * that throws stops the queue and goes to `onError`; later jobs are skipped, as are all after `stop()`.
 *
 * @example
 * const q = new SerialQueue((err) => worker.destroy(err))
 * q.push(async () => await applyRound(m))
 * q.open() // jobs pushed before this wait for it
 */
export class SerialQueue {
  private tail: Promise<void>
  private release: () => void = () => {}
  private stopped = false

  constructor(private readonly onError: (err: Error) => void) {
    this.tail = new Promise((resolve) => (this.release = resolve))
  }

  /** Lets jobs run. */
  open(): void {
    this.release()
  }

  push(job: () => void | Promise<void>): void {
    this.tail = this.tail.then(async () => {
      if (this.stopped) return
      try {
        await job()
      } catch (e) {
        this.stopped = true
        this.onError(e instanceof Error ? e : new Error(String(e)))
      }
    })
  }

  /** Skips every job not started yet; the one running (if any) finishes. */
  stop(): void {
    this.stopped = true
    this.release() // a queue never opened lets its jobs go, to be skipped
  }
}
