import { LinkkitError } from './errors.js'

/** What a full offline queue does with one more message. */
export type OverflowPolicy = 'drop-oldest' | 'reject-new'

/** The bounded queue of QoS 1 publishes held while reconnecting. */
export interface OfflineQueueOptions {
  /** Most QoS1 messages held while offline. 0 disables queueing (offline publishes reject). @default 1000 */
  maxSize: number
  /**
   * Most bytes held while offline (payloads and topics). A publish that would go beyond it overflows
   * like one beyond `maxSize`; one larger than the whole bound is refused under either policy.
   * @default 4194304 (4 MiB)
   */
  maxBytes: number
  /** What to do when full: reject the new publish, or drop (and reject) the oldest queued ones. @default 'reject-new' */
  overflow: OverflowPolicy
}

/**
 * 1000 messages or 4 MiB, whichever comes first; a publish beyond that rejects. 4 MiB holds the
 * 1000 messages at 4 KiB each (telemetry posts are far smaller), and keeps a device that keeps
 * publishing through a long outage, or publishes large messages, from filling its RAM.
 */
export const DEFAULT_OFFLINE_QUEUE: Readonly<OfflineQueueOptions> = Object.freeze({
  maxSize: 1000,
  maxBytes: 4 * 1024 * 1024,
  overflow: 'reject-new',
})

/** A publish waiting for the connection. */
export interface QueuedPublish {
  /** Where it goes. */
  topic: string
  /** The encoded payload. */
  payload: Buffer
  /** The QoS it is sent at once the session is back. */
  qos: 0 | 1
  /** Settles the publish once the broker acknowledged it. */
  resolve: () => void
  /** Settles the publish with a failure (queue full, withdrawn, closed). */
  reject: (error: LinkkitError) => void
}

/** What one queued publish counts against `maxBytes`. */
function bytesOf(entry: QueuedPublish): number {
  return entry.payload.length + Buffer.byteLength(entry.topic)
}

/**
 * A bounded FIFO of publishes made while offline, flushed in order on reconnect. An entry pushed
 * with an AbortSignal is withdrawn when the signal fires while it still waits: it leaves the queue
 * (freeing its place) and rejects with `ERR_ABORTED`, so a request that timed out or was cancelled
 * is never sent after the reconnect. Once drained for sending, its signal no longer matters.
 */
export class OfflineQueue {
  readonly #items: QueuedPublish[] = []
  readonly #options: OfflineQueueOptions
  /** How to stop watching the signal of each entry pushed with one (made on first use: most queues never see a signal). */
  #watched: Map<QueuedPublish, () => void> | undefined
  #bytes = 0

  constructor(options: OfflineQueueOptions) {
    this.#options = options
  }

  /** Messages waiting. */
  get size(): number {
    return this.#items.length
  }

  /** Bytes waiting (payloads and topics). */
  get bytes(): number {
    return this.#bytes
  }

  /**
   * Adds an entry. Returns the entry that overflowed (already rejected), if any: the new one when it
   * was refused, or the oldest one dropped to make room (under `drop-oldest` every dropped entry is rejected).
   */
  push(entry: QueuedPublish, signal?: AbortSignal): QueuedPublish | undefined {
    const overflowed = this.#push(entry)
    if (signal !== undefined && overflowed !== entry) {
      const onAbort = () => this.#withdraw(entry, signal)
      signal.addEventListener('abort', onAbort, { once: true })
      this.#watched ??= new Map()
      this.#watched.set(entry, () => signal.removeEventListener('abort', onAbort))
    }
    return overflowed
  }

  /** Removes and returns every entry, oldest first; their signals are let go. */
  drain(): QueuedPublish[] {
    this.#bytes = 0
    const items = this.#items.splice(0)
    if (this.#watched !== undefined && this.#watched.size > 0) for (const item of items) this.#unwatch(item)
    return items
  }

  /** Rejects and drops every queued message (on close or a fatal failure). */
  rejectAll(error: LinkkitError): void {
    for (const entry of this.drain()) entry.reject(error)
  }

  #push(entry: QueuedPublish): QueuedPublish | undefined {
    const size = bytesOf(entry)
    const { maxSize, maxBytes, overflow } = this.#options
    const fits = () => this.#items.length < maxSize && this.#bytes + size <= maxBytes
    if (fits()) {
      this.#items.push(entry)
      this.#bytes += size
      return undefined
    }
    if (overflow === 'drop-oldest' && maxSize > 0 && size <= maxBytes) {
      let first: QueuedPublish | undefined
      while (!fits()) {
        const dropped = this.#items.shift()!
        this.#bytes -= bytesOf(dropped)
        this.#unwatch(dropped)
        first ??= dropped
        dropped.reject(this.#full(dropped.topic))
      }
      this.#items.push(entry)
      this.#bytes += size
      return first
    }
    entry.reject(this.#full(entry.topic))
    return entry
  }

  #unwatch(entry: QueuedPublish): void {
    const detach = this.#watched?.get(entry)
    if (detach === undefined) return
    detach()
    this.#watched?.delete(entry)
  }

  #withdraw(entry: QueuedPublish, signal: AbortSignal): void {
    this.#watched?.delete(entry)
    const at = this.#items.indexOf(entry)
    if (at < 0) return
    this.#items.splice(at, 1)
    this.#bytes -= bytesOf(entry)
    entry.reject(
      new LinkkitError('ERR_ABORTED', `publish to ${entry.topic} withdrawn from the offline queue`, {
        topic: entry.topic,
        cause: signal.reason,
      }),
    )
  }

  #full(topic: string): LinkkitError {
    const { maxSize, maxBytes } = this.#options
    return new LinkkitError(
      'ERR_OFFLINE_QUEUE_FULL',
      `offline queue full (${maxSize} messages, ${maxBytes} bytes); dropped a publish`,
      { topic, details: { maxSize, maxBytes, queued: this.#items.length, queuedBytes: this.#bytes } },
    )
  }
}
