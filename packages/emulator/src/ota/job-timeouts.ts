import type { EmulatorClock } from '../clock.js'
import { isOngoing } from './job-book.js'
import type { OtaJob } from './types.js'

/**
 * The upgrade timeout of each job (docs/protocol.md §6 item 18): armed when the job starts upgrading
 * (its `deadlineAt` is set by the first progress report), disarmed when it ends any other way.
 */
export class JobTimeouts {
  readonly #clock: EmulatorClock
  readonly #onExpire: (job: OtaJob) => void
  readonly #cancels = new Map<string, () => void>()

  constructor(clock: EmulatorClock, onExpire: (job: OtaJob) => void) {
    this.#clock = clock
    this.#onExpire = onExpire
  }

  /** Follows a status change of `job`. */
  update(job: OtaJob): void {
    if (job.status === 'upgrading' && job.deadlineAt !== undefined) {
      if (this.#cancels.has(job.id)) return
      const ms = Math.max(0, job.deadlineAt - this.#clock.now())
      const cancel = this.#clock.setTimer(() => {
        this.#cancels.delete(job.id)
        if (job.status === 'upgrading') this.#onExpire(job)
      }, ms)
      this.#cancels.set(job.id, cancel)
    } else if (!isOngoing(job)) {
      this.#cancels.get(job.id)?.()
      this.#cancels.delete(job.id)
    }
  }

  /** Disarms every timer (the emulator is closing). */
  close(): void {
    for (const cancel of this.#cancels.values()) cancel()
    this.#cancels.clear()
  }
}
