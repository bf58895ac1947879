import { type AlinkReply, requestEnvelope } from './alink.js'
import type { Payload, PublishOptions, RequestOptions } from './connection-types.js'
import { toLinkkitError } from './errors.js'
import type { PendingRequests } from './pending-requests.js'

/** What an Alink request needs from the session that carries it. */
export interface RequestChannel {
  /** A fresh Alink id. */
  nextId(): string
  /** Publishes (QoS1 waits in the offline queue while reconnecting). */
  publish(topic: string, payload: Payload, options: PublishOptions): Promise<void>
  /** Makes sure replies on `replyTopic` reach this session (a SUBSCRIBE when no filter covers it yet). */
  ensureReplyRoute(replyTopic: string): Promise<void>
  /** Requests waiting for their `_reply`. */
  pending: PendingRequests
  /** Timeout when the request names none. */
  defaultTimeoutMs: number
}

/**
 * Sends an Alink request on `topic` and resolves with the `<topic>_reply` that carries its id
 * (shared by a device's Connection and a sub-device's session over its gateway). `ack: 0` resolves
 * once sent. A non-200 reply rejects with ERR_REPLY; none in time with ERR_REQUEST_TIMEOUT.
 */
export async function sendRequest<D>(
  channel: RequestChannel,
  topic: string,
  params: unknown,
  options: RequestOptions,
): Promise<AlinkReply<D>> {
  const id = channel.nextId()
  const body = requestEnvelope(id, params, options)
  const qos = options.qos ?? 1
  if (options.ack === 0) {
    await channel.publish(topic, body, { qos })
    return { id, code: 200, data: undefined as D }
  }
  const replyTopic = `${topic}_reply`
  await channel.ensureReplyRoute(replyTopic)
  const reply = channel.pending.wait(
    id,
    replyTopic,
    options.timeoutMs ?? channel.defaultTimeoutMs,
    options.signal,
  )
  channel
    .publish(topic, body, { qos })
    .catch((error: unknown) => channel.pending.fail(id, toLinkkitError(error, 'ERR_PUBLISH_FAILED')))
  return (await reply) as AlinkReply<D>
}
