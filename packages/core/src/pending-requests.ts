import type { AlinkReply } from './alink.js'
import { LinkkitError } from './errors.js'

interface Pending {
  topic: string
  resolve: (reply: AlinkReply) => void
  reject: (error: LinkkitError) => void
  dispose: () => void
}

/** Requests waiting for their `_reply`, matched by Alink id; each with a timeout and an optional AbortSignal. */
export class PendingRequests {
  readonly #pending = new Map<string, Pending>()

  /** Requests waiting for their reply. */
  get size(): number {
    return this.#pending.size
  }

  /** Whether some request waits for a reply on this topic. */
  waitsOn(topic: string): boolean {
    for (const pending of this.#pending.values()) if (pending.topic === topic) return true
    return false
  }

  /** Registers id before the request is sent; the promise settles on reply, timeout or abort. */
  wait(id: string, replyTopic: string, timeoutMs: number, signal?: AbortSignal): Promise<AlinkReply> {
    if (signal?.aborted) {
      return Promise.reject(
        new LinkkitError('ERR_ABORTED', 'request aborted', { topic: replyTopic, cause: signal.reason }),
      )
    }
    return new Promise<AlinkReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#take(id)?.reject(
          new LinkkitError('ERR_REQUEST_TIMEOUT', `no reply on ${replyTopic} within ${timeoutMs} ms`, {
            topic: replyTopic,
            details: { id, timeoutMs },
          }),
        )
      }, timeoutMs)
      timer.unref?.()
      const onAbort = () => {
        this.#take(id)?.reject(
          new LinkkitError('ERR_ABORTED', 'request aborted', { topic: replyTopic, cause: signal?.reason }),
        )
      }
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#pending.set(id, {
        topic: replyTopic,
        resolve,
        reject,
        dispose: () => {
          clearTimeout(timer)
          signal?.removeEventListener('abort', onAbort)
        },
      })
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

  #take(id: string): Pending | undefined {
    const pending = this.#pending.get(id)
    if (pending === undefined) return undefined
    this.#pending.delete(id)
    pending.dispose()
    return pending
  }
}
