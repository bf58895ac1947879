import { LinkkitError, Topics, toLinkkitError } from '@linkkit/core'
import type { ThingContext } from './context.js'
import { describeError, runHandler, withTopic } from './respond.js'

/** Answers raw bytes from the cloud; return bytes to publish them on `down_raw_reply`, or nothing. */
export type RawHandler = (
  payload: Buffer,
  info: { sync: boolean; signal: AbortSignal },
) => Uint8Array | undefined | Promise<Uint8Array | undefined>

/** Options of `postRaw`. */
export interface PostRawOptions {
  /** @default the connection's requestTimeoutMs */
  timeoutMs?: number
  /** Cancels the wait (`ERR_ABORTED`); a post still waiting in the offline queue is then never sent. */
  signal?: AbortSignal
  /** @default the connection's `alinkQos` (0 unless set): the `up_raw_reply` is the acknowledgement */
  qos?: 0 | 1
  /** Wait in the offline queue while reconnecting (`false`: reject at once with `ERR_NOT_CONNECTED`). @default true */
  queueOffline?: boolean
}

interface Waiter {
  resolve: (payload: Buffer) => void
  reject: (error: LinkkitError) => void
}

/**
 * Raw (pass-through) data: `thing/model/up_raw` → `up_raw_reply` and `down_raw` → `down_raw_reply`
 * (docs/protocol.md §2.2). Raw messages carry no id, so each `up_raw_reply` settles the oldest waiting
 * `postRaw`.
 */
export class RawChannel {
  handler: RawHandler | undefined
  readonly #ctx: ThingContext
  readonly #waiters: Waiter[] = []

  constructor(ctx: ThingContext) {
    this.#ctx = ctx
  }

  get upTopic(): string {
    return Topics.sys(this.#ctx.connection, 'thing/model/up_raw')
  }

  async post(bytes: Uint8Array, options: PostRawOptions = {}): Promise<Buffer> {
    if (!(bytes instanceof Uint8Array))
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'raw data must be bytes')
    if (options.qos !== undefined && options.qos !== 0 && options.qos !== 1)
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'qos must be 0 or 1')
    const topic = this.upTopic
    const timeoutMs = options.timeoutMs ?? this.#ctx.connection.requestTimeoutMs
    const { signal } = options
    if (signal?.aborted) throw new LinkkitError('ERR_ABORTED', 'raw post aborted', { cause: signal.reason })
    let pending: Waiter | undefined
    const reply = new Promise<Buffer>((resolve, reject) => {
      const done = () => {
        clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        const i = this.#waiters.indexOf(waiter)
        if (i >= 0) this.#waiters.splice(i, 1)
      }
      const waiter: Waiter = {
        resolve: (payload) => {
          done()
          resolve(payload)
        },
        reject: (error) => {
          done()
          reject(error)
        },
      }
      const timer = setTimeout(() => {
        waiter.reject(
          new LinkkitError('ERR_REQUEST_TIMEOUT', `no up_raw_reply within ${timeoutMs} ms`, { topic }),
        )
      }, timeoutMs)
      timer.unref()
      const onAbort = () => waiter.reject(new LinkkitError('ERR_ABORTED', 'raw post aborted', { topic }))
      signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(waiter)
      pending = waiter
    })
    // Settled (reply, timeout, abort) while it still waits in the offline queue: withdraw it.
    const withdraw = this.#ctx.connection.connected ? undefined : new AbortController()
    const publishOptions = {
      qos: options.qos ?? this.#ctx.connection.alinkQos,
      queueOffline: options.queueOffline ?? true,
      signal: withdraw?.signal,
    }
    this.#ctx.connection.publish(topic, bytes, publishOptions).catch((error: unknown) => {
      pending?.reject(toLinkkitError(error, 'ERR_PUBLISH_FAILED'))
    })
    try {
      return await reply
    } finally {
      withdraw?.abort()
    }
  }

  onUpReply(payload: Buffer): void {
    const waiter = this.#waiters[0]
    if (waiter === undefined) this.#ctx.logger.debug('up_raw_reply with no raw post waiting')
    else waiter.resolve(payload)
  }

  /** `down_raw` (or its `/ext/rrpc` form): emits `raw`, runs the handler, publishes what it returns. */
  async onDown(topic: string, replyTopic: string, payload: Buffer, sync: boolean): Promise<void> {
    const ctx = this.#ctx
    if (payload.length > ctx.options.maxPayloadBytes) {
      ctx.report(
        new LinkkitError('ERR_MALFORMED_PAYLOAD', `raw payload of ${payload.length} bytes refused`, {
          topic,
        }),
      )
      return
    }
    ctx.emit('raw', { payload, sync })
    const handler = this.handler
    if (handler === undefined) return
    const result = await runHandler(
      (signal) => handler(payload, { sync, signal }),
      ctx.options.replyTimeoutMs,
    )
    if (ctx.closed) return
    if (!result.ok) {
      const reason = result.timedOut ? 'timed out' : `threw: ${describeError(result.error)}`
      ctx.report(new LinkkitError('ERR_SERVICE', `raw handler ${reason}`, { topic, cause: result.error }))
      return
    }
    if (result.value === undefined) return
    if (!(result.value instanceof Uint8Array)) {
      ctx.report(new LinkkitError('ERR_SERVICE', 'raw handler must return bytes or nothing', { topic }))
      return
    }
    if (replyTopic.startsWith('/ext/rrpc/')) ctx.echoes.expect(replyTopic)
    try {
      await ctx.connection.publish(replyTopic, result.value, { qos: 0 })
    } catch (error) {
      ctx.report(withTopic(toLinkkitError(error, 'ERR_PUBLISH_FAILED'), replyTopic))
    }
  }

  rejectAll(error: LinkkitError): void {
    for (const waiter of [...this.#waiters]) waiter.reject(error)
  }
}
