import { LinkkitError } from '@linkkit/core'
import { replyId } from './envelope.js'

interface Waiter {
  /** The request's Alink id; undefined for raw messages, which carry none (FIFO). */
  id: string | undefined
  /** Whether a reply with an id of no pending request may settle this one (a service call). */
  adopts: boolean
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

/** Options of `ReplyWaiters.wait`. */
export interface WaitOptions {
  /**
   * Lets a reply whose id matches no pending request settle the oldest pending one on the topic:
   * service calls, since the vendor Node SDK answers them with a fresh id (docs/protocol.md §6
   * item 16). @default false
   */
  adoptUnmatched?: boolean
}

/** How many ids of finished requests are remembered, so their late replies are not adopted. */
const FINISHED_IDS = 256

/**
 * Correlates device replies with the platform's downlink requests by reply topic and Alink id. A
 * reply that is not JSON still settles its request when its id can be recovered (3.x's config
 * push failure reply has no outer braces, docs/protocol.md §2.3), else it settles the oldest one. A
 * service reply with an id nobody waits for settles the oldest call of that service for that
 * device (the reply topic names both), unless the id is one of a call that already finished:
 * that is a late or repeated answer, not a fresh id.
 */
export class ReplyWaiters {
  readonly #byTopic = new Map<string, Waiter[]>()
  /** `${topic}\n${id}` of recently finished requests, oldest first. */
  readonly #finished = new Set<string>()
  #closed: LinkkitError | undefined

  /** Set once `rejectAll` ran: no request may start any more. */
  get closed(): LinkkitError | undefined {
    return this.#closed
  }

  wait(topic: string, id: string | undefined, timeoutMs: number, options: WaitOptions = {}): Waiting {
    let waiter: Waiter | undefined
    const reply = new Promise<Buffer>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#remove(topic, entry)
        reject(
          new LinkkitError('ERR_REQUEST_TIMEOUT', `no reply on ${topic} within ${timeoutMs} ms`, { topic }),
        )
      }, timeoutMs)
      timer.unref()
      const entry: Waiter = { id, adopts: options.adoptUnmatched === true, resolve, reject, timer }
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
    const waiter =
      id === undefined
        ? list[0]
        : (list.find((w) => w.id === undefined || w.id === id) ?? this.#adopter(topic, id, list))
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

  /** The oldest request that takes a reply with an unknown id, unless `id` is a finished one's. */
  #adopter(topic: string, id: string, list: readonly Waiter[]): Waiter | undefined {
    if (this.#finished.has(`${topic}\n${id}`)) return undefined
    return list.find((w) => w.adopts)
  }

  #remove(topic: string, waiter: Waiter): void {
    const list = this.#byTopic.get(topic)
    if (list === undefined) return
    const at = list.indexOf(waiter)
    if (at >= 0) list.splice(at, 1)
    if (list.length === 0) this.#byTopic.delete(topic)
    if (waiter.id !== undefined) this.#remember(`${topic}\n${waiter.id}`)
  }

  #remember(key: string): void {
    this.#finished.delete(key)
    this.#finished.add(key)
    if (this.#finished.size > FINISHED_IDS) {
      const oldest = this.#finished.values().next().value
      if (oldest !== undefined) this.#finished.delete(oldest)
    }
  }
}
