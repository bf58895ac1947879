import { type AlinkReply, requestEnvelope } from './alink.js'
import type { Payload, PublishOptions, RequestOptions } from './connection-types.js'
import { LinkkitError, toLinkkitError } from './errors.js'
import type { PendingRequests } from './pending-requests.js'
import type { Qos } from './subscriptions.js'

/** What an Alink request needs from the session that carries it. */
export interface RequestChannel {
  /** A fresh Alink id. */
  nextId(): string
  /** Publishes (with `queueOffline`, waits in the offline queue while reconnecting). */
  publish(topic: string, payload: Payload, options: PublishOptions): Promise<void>
  /**
   * Makes sure replies on `replyTopic` reach this session (a SUBSCRIBE when no filter covers it
   * yet); undefined when they already do.
   */
  ensureReplyRoute(replyTopic: string): Promise<void> | undefined
  /** Requests waiting for their `_reply`. */
  pending: PendingRequests
  /** Timeout when the request names none. */
  defaultTimeoutMs: number
  /** QoS when the request names none (the connection's `alinkQos`). */
  defaultQos: Qos
  /** Whether a publish made now goes straight out (else it waits in the offline queue or is refused). */
  isConnected(): boolean
  /**
   * Optional fast path while connected: hands the message to the client at once, with no promise
   * per publish; a failure is reported to `onError`. Throws what `publish` would reject with.
   */
  sendNow?(topic: string, payload: Payload, qos: Qos, onError: (error: unknown) => void): void
}

/**
 * Sends an Alink request on `topic` and resolves with the `<topic>_reply` that carries its id
 * (shared by a device's Connection and a sub-device's session over its gateway). `ack: 0` resolves
 * once sent. A non-200 reply rejects with ERR_REPLY; none in time with ERR_REQUEST_TIMEOUT.
 *
 * The request goes at `options.qos`, else the channel's default (QoS 0: the reply is the
 * acknowledgement). While the session is reconnecting it waits in the offline queue unless
 * `queueOffline: false`; a request that times out or is aborted there is withdrawn, never sent late.
 */
export function sendRequest<D>(
  channel: RequestChannel,
  topic: string,
  params: unknown,
  options: RequestOptions,
): Promise<AlinkReply<D>> {
  // A plain function, not `async`: a request is on the hot path of every post, and each async
  // frame and await costs promises and turns of the microtask queue. Throws become rejections.
  try {
    const qos = options.qos ?? channel.defaultQos
    if (qos !== 0 && qos !== 1)
      return Promise.reject(new LinkkitError('ERR_INVALID_ARGUMENT', 'qos must be 0 or 1'))
    const id = channel.nextId()
    const body = requestEnvelope(id, params, options)
    const queueOffline = options.queueOffline ?? true
    if (options.ack === 0) {
      return channel
        .publish(topic, body, { qos, queueOffline, signal: options.signal })
        .then(() => ({ id, code: 200, data: undefined as D }))
    }
    const replyTopic = `${topic}_reply`
    const routing = channel.ensureReplyRoute(replyTopic)
    const send = () => waitAndSend<D>(channel, topic, replyTopic, id, body, qos, queueOffline, options)
    return routing === undefined ? send() : routing.then(send)
  } catch (error) {
    return Promise.reject(error)
  }
}

function waitAndSend<D>(
  channel: RequestChannel,
  topic: string,
  replyTopic: string,
  id: string,
  body: Record<string, unknown>,
  qos: Qos,
  queueOffline: boolean,
  options: RequestOptions,
): Promise<AlinkReply<D>> {
  const reply = channel.pending.wait(
    id,
    replyTopic,
    options.timeoutMs ?? channel.defaultTimeoutMs,
    options.signal,
  ) as Promise<AlinkReply<D>>
  // A request that waits in the offline queue is withdrawn once settled (reply, timeout, abort).
  // Online, it goes straight out: no AbortController (creating and firing one costs more than
  // the rest of the request).
  const connected = channel.isConnected()
  const withdraw = connected ? undefined : new AbortController()
  const failed = (error: unknown) => channel.pending.fail(id, toLinkkitError(error, 'ERR_PUBLISH_FAILED'))
  try {
    if (connected && channel.sendNow !== undefined) channel.sendNow(topic, body, qos, failed)
    else channel.publish(topic, body, { qos, queueOffline, signal: withdraw?.signal }).catch(failed)
  } catch (error) {
    failed(error)
  }
  if (withdraw === undefined) return reply
  const withdrawn = () => withdraw.abort()
  reply.then(withdrawn, withdrawn)
  return reply
}
