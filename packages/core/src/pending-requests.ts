import type { AlinkReply } from './alink.js'
import { LinkkitError } from './errors.js'

interface Pending {
  topic: string
  /** When it times out (ms on the `performance.now()` clock). */
  deadline: number
  timeoutMs: number
  resolve: (reply: AlinkReply) => void
  reject: (error: LinkkitError) => void
  signal: AbortSignal | undefined
  onAbort: (() => void) | undefined
}

/**
 * Requests waiting for their `_reply`, matched by Alink id; each with a timeout and an optional
 * AbortSignal. One timer serves every timeout: it is armed for the earliest deadline and, when it
 * fires, rejects what is due and re-arms for the next, so a request costs no timer of its own.
 */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>()
  /** Requests waiting per reply topic, so routing a message does not scan every request. */
  readonly #topics = new Map<string, number>()
  #timer: NodeJS.Timeout | undefined
  #armedFor = Number.POSITIVE_INFINITY

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size
  }

  /** Whether some request waits for a reply on this topic. */
  waitsOn(topic: string): boolean {
    return this.#topics.has(topic)
  }

  /** Registers id before the request is sent; the promise settles on reply, timeout or abort. */
  wait(id: string, replyTopic: string, timeoutMs: number, signal?: AbortSignal): Promise<AlinkReply> {
    if (signal?.aborted) {
      return Promise.reject(
        new LinkkitError('ERR_ABORTED', 'request aborted', { topic: replyTopic, cause: signal.reason }),
      )
    }
    return new Promise<AlinkReply>((resolve, reject) => {
      const deadline = performance.now() + timeoutMs
      const pending: Pending = {
        topic: replyTopic,
        deadline,
        timeoutMs,
        resolve,
        reject,
        signal,
        onAbort: undefined,
      }
      if (signal !== undefined) {
        pending.onAbort = () => {
          this.#take(id)?.reject(
            new LinkkitError('ERR_ABORTED', 'request aborted', { topic: replyTopic, cause: signal.reason }),
          )
        }
        signal.addEventListener('abort', pending.onAbort, { once: true })
      }
      this.#pending.set(id, pending)
      this.#topics.set(replyTopic, (this.#topics.get(replyTopic) ?? 0) + 1)
      if (deadline < this.#armedFor) this.#arm(deadline)
    })
  }

  /**
   * Settles the request with this id when the reply came on the topic it waits on. A 200 resolves;
   * any other code rejects with ERR_REPLY carrying `replyCode`. Returns false for an unknown id.
   */
  settle(topic: string, reply: AlinkReply): boolean {
    const pending = this.#pending.get(reply.id)
    if (pending === undefined || pending.topic !== topic) return false
    this.#take(reply.id)
    if (reply.code === 200) pending.resolve(reply)
    else {
      pending.reject(
        new LinkkitError(
          'ERR_REPLY',
          `cloud replied ${reply.code}${reply.message ? `: ${reply.message}` : ''}`,
          {
            replyCode: reply.code,
            topic,
            details: { id: reply.id, data: reply.data },
          },
        ),
      )
    }
    return true
  }

  /**
   * Fails the request with this id when it waits on `topic`: its reply came but was refused (too
   * large, too deep, not JSON), so the caller learns now rather than at the timeout. Returns false
   * when no such request waits.
   */
  failReply(topic: string, id: string, error: LinkkitError): boolean {
    if (this.#pending.get(id)?.topic !== topic) return false
    this.#take(id)?.reject(error)
    return true
  }

  /** Removes a request that could not be sent, rejecting it. */
  fail(id: string, error: LinkkitError): void {
    this.#take(id)?.reject(error)
  }

  /** Rejects every waiting request (on close). */
  rejectAll(error: LinkkitError): void {
    for (const id of [...this.#pending.keys()]) this.#take(id)?.reject(error)
  }

  #arm(deadline: number, delayMs = deadline - performance.now()): void {
    clearTimeout(this.#timer)
    this.#armedFor = deadline
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, delayMs))
    this.#timer.unref?.()
  }

  /**
   * The timer reached the deadline it was armed for: rejects every request due by then and re-arms
   * for the earliest one left. Due-ness is judged against that deadline, not a fresh clock reading,
   * so timeouts follow the timer (and fake timers in tests) exactly as one timer per request would.
   */
  #expire(): void {
    const reached = this.#armedFor
    this.#timer = undefined
    this.#armedFor = Number.POSITIVE_INFINITY
    let next = Number.POSITIVE_INFINITY
    for (const [id, pending] of this.#pending) {
      if (pending.deadline <= reached) {
        this.#take(id)
        pending.reject(
          new LinkkitError(
            'ERR_REQUEST_TIMEOUT',
            `no reply on ${pending.topic} within ${pending.timeoutMs} ms`,
            {
              topic: pending.topic,
              details: { id, timeoutMs: pending.timeoutMs },
            },
          ),
        )
      } else if (pending.deadline < next) next = pending.deadline
    }
    if (next !== Number.POSITIVE_INFINITY) this.#arm(next, next - reached)
  }

  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id)
    if (pending === undefined) return undefined
    this.#pending.delete(id)
    const count = (this.#topics.get(pending.topic) ?? 1) - 1
    if (count > 0) this.#topics.set(pending.topic, count)
    else this.#topics.delete(pending.topic)
    if (pending.onAbort !== undefined) pending.signal?.removeEventListener('abort', pending.onAbort)
    return pending
  }
}
