import { LinkkitError } from './errors.js'

/** What a full offline queue does with one more message. */
export type OverflowPolicy = 'drop-oldest' | 'reject-new'

/** The bounded queue of QoS 1 publishes held while reconnecting. */
export interface OfflineQueueOptions {
  /** Most QoS1 messages held while offline. 0 disables queueing (offline publishes reject). @default 1000 */
  maxSize: number
  /** What to do when full: reject the new publish, or drop (and reject) the oldest queued one. @default 'reject-new' */
  overflow: OverflowPolicy
}

/** 1000 messages; a publish beyond that rejects. */
export const DEFAULT_OFFLINE_QUEUE: Readonly<OfflineQueueOptions> = Object.freeze({
  maxSize: 1000,
  overflow: 'reject-new',
})

/** A publish waiting for the connection. */
export interface QueuedPublish {
  /** Where it goes. */
  topic: string
  /** The encoded payload. */
  payload: Buffer
  /** Only QoS 1 publishes are queued. */
  qos: 0 | 1
  /** Settles the publish once the broker acknowledged it. */
  resolve: () => void
  /** Settles the publish with a failure (queue full, closed). */
  reject: (error: LinkkitError) => void
}

/** A bounded FIFO of publishes made while offline, flushed in order on reconnect. */
export class OfflineQueue {
  readonly #items: QueuedPublish[] = []
  readonly #options: OfflineQueueOptions

  constructor(options: OfflineQueueOptions) {
    this.#options = options
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length
  }

  /** Adds an entry; returns the entry that overflowed (already rejected), if any. */
  push(entry: QueuedPublish): QueuedPublish | undefined {
    if (this.#items.length < this.#options.maxSize) {
      this.#items.push(entry)
      return undefined
    }
    const error = (topic: string) =>
      new LinkkitError(
        'ERR_OFFLINE_QUEUE_FULL',
        `offline queue full (${this.#options.maxSize}); dropped a publish`,
        {
          topic,
        },
      )
    if (this.#options.overflow === 'drop-oldest' && this.#items.length > 0) {
      const dropped = this.#items.shift()!
      this.#items.push(entry)
      dropped.reject(error(dropped.topic))
      return dropped
    }
    entry.reject(error(entry.topic))
    return entry
  }

  /** Removes and returns every entry, oldest first. */
  drain(): QueuedPublish[] {
    return this.#items.splice(0)
  }

  /** Rejects and drops every queued message (on close or a fatal failure). */
  rejectAll(error: LinkkitError): void {
    for (const entry of this.drain()) entry.reject(error)
  }
}
