import { LinkkitError } from '@linkkit/core'
import { replyId } from './envelope.js'

interface Waiter {
  /** The request's Alink id; undefined for raw messages, which carry none (FIFO). */
  id: string | undefined
  resolve: (payload: Buffer) => void
  reject: (error: LinkkitError) => void
  timer: NodeJS.Timeout
}

/** A pending downlink request: `reply` settles with the payload of the device's answer. */
export interface Waiting {
  reply: Promise<Buffer>
  /** Forgets the request without settling it (its publish failed). */
  cancel(): void
}

/**
 * Correlates device replies with the platform's downlink requests by reply topic and Alink id. A
 * reply that is not JSON still settles its request when its id can be recovered (3.x's config
 * push failure reply has no outer braces, PROTOCOL.md §2.3), else it settles the oldest one.
 */
export class ReplyWaiters {
  readonly #byTopic = new Map<string, Waiter[]>()
  #closed: LinkkitError | undefined

  /** Set once `rejectAll` ran: no request may start any more. */
  get closed(): LinkkitError | undefined {
    return this.#closed
  }

  wait(topic: string, id: string | undefined, timeoutMs: number): Waiting {
    let waiter: Waiter | undefined
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#remove(topic, entry)
        reject(
          new LinkkitError('ERR_REQUEST_TIMEOUT', `no reply on ${topic} within ${timeoutMs} ms`, { topic }),
        )
      }, timeoutMs)
      timer.unref()
      const entry: Waiter = { id, resolve, reject, timer }
      waiter = entry
      const list = this.#byTopic.get(topic)
      if (list === undefined) this.#byTopic.set(topic, [entry])
      else list.push(entry)
    })
    return {
      reply,
      cancel: () => {
        if (waiter === undefined) return
        clearTimeout(waiter.timer)
        this.#remove(topic, waiter)
      },
    }
  }

  /** Settles the request `payload` answers; false when nothing waits for it on `topic`. */
  settle(topic: string, payload: Buffer): boolean {
    const list = this.#byTopic.get(topic)
    if (list === undefined) return false
    const id = list.some((w) => w.id !== undefined) ? replyId(payload) : undefined
    const waiter = id === undefined ? list[0] : list.find((w) => w.id === undefined || w.id === id)
    if (waiter === undefined) return false
    clearTimeout(waiter.timer)
    this.#remove(topic, waiter)
    waiter.resolve(payload)
    return true
  }

  /** Rejects every pending request (the emulator is closing). */
  rejectAll(error: LinkkitError): void {
    this.#closed = error
    for (const [topic, list] of [...this.#byTopic]) {
      for (const waiter of [...list]) {
        clearTimeout(waiter.timer)
        this.#remove(topic, waiter)
        waiter.reject(error)
      }
    }
  }

  #remove(topic: string, waiter: Waiter): void {
    const list = this.#byTopic.get(topic)
    if (list === undefined) return
    const at = list.indexOf(waiter)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) this.#byTopic.delete(topic)
  }
}
