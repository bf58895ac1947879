import { LinkkitError } from './errors.js'
import type { OfflineQueue, QueuedPublish } from './offline-queue.js'

/**
 * An offline queue whose entries can be withdrawn: when the AbortSignal given with an entry fires
 * while the entry still waits, it leaves the queue (freeing its place) and rejects with
 * `ERR_ABORTED`, so a request that timed out or was cancelled is never sent after the reconnect.
 * Once an entry was drained for sending, its signal no longer matters.
 */
export class WithdrawableQueue {
  readonly #queue: OfflineQueue
  readonly #watched = new Map<QueuedPublish, () => void>()

  constructor(queue: OfflineQueue) {
    this.#queue = queue
  }

  /** Entries waiting. */
  get size(): number {
    return this.#queue.size
  }

  /** Bytes waiting (payloads and topics). */
  get bytes(): number {
    return this.#queue.bytes
  }

  /** Queues an entry; returns the entry that overflowed (already rejected), if any. */
  push(entry: QueuedPublish, signal?: AbortSignal): QueuedPublish | undefined {
    const overflowed = this.#queue.push(entry)
    if (overflowed !== undefined) this.#unwatch(overflowed)
    if (signal !== undefined && overflowed !== entry) {
      const onAbort = () => this.#withdraw(entry, signal)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#watched.set(entry, () => signal.removeEventListener('abort', onAbort))
    }
    return overflowed
  }

  /** Removes and returns every entry, oldest first; their signals are let go. */
  drain(): QueuedPublish[] {
    const items = this.#queue.drain()
    for (const item of items) this.#unwatch(item)
    return items
  }

  /** Rejects and drops every entry (on close or a fatal failure). */
  rejectAll(error: LinkkitError): void {
    for (const detach of this.#watched.values()) detach()
    this.#watched.clear()
    this.#queue.rejectAll(error)
  }

  #unwatch(entry: QueuedPublish): void {
    this.#watched.get(entry)?.()
    this.#watched.delete(entry)
  }

  #withdraw(entry: QueuedPublish, signal: AbortSignal): void {
    this.#unwatch(entry)
    // OfflineQueue is a plain FIFO: take everything out and put back all but this entry, in order.
    let found = false
    for (const item of this.#queue.drain()) {
      if (item === entry) found = true
      else this.#queue.push(item)
    }
    if (found) {
      entry.reject(
        new LinkkitError('ERR_ABORTED', `publish to ${entry.topic} withdrawn from the offline queue`, {
          topic: entry.topic,
          cause: signal.reason,
        }),
      )
    }
  }
}
