import { AlinkIds, type AlinkReply, parseReply } from './alink.js'
import type { Payload, PublishOptions, RequestOptions } from './connection-types.js'
import { payloadBytes } from './connection-types.js'
import { LinkkitError, toLinkkitError } from './errors.js'
import { peekId } from './inbound-json.js'
import { OfflineQueue, type OfflineQueueOptions } from './offline-queue.js'
import { PendingRequests } from './pending-requests.js'
import { type RequestChannel, sendRequest } from './request.js'
import { type MessageHandler, TopicRouter } from './router.js'
import type { Qos } from './subscriptions.js'
import { assertTopicName } from './topics.js'

function noop(): void {}

/**
 * What goes to the carrier: text and bytes as they are, anything else as JSON text. A string is
 * encoded straight into the packet by MQTT.js; only what waits in the offline queue is held as bytes.
 */
function wirePayload(payload: Payload): string | Uint8Array {
  return typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload)
}

/** How a request's message goes while the link is up (no per-call object on the hot path). */
const SEND_NOW: CarrierSendOptions = Object.freeze({ queueOffline: false, signal: undefined })
/** How what waited in the offline queue goes once the link is up. */
const DRAINED: CarrierSendOptions = Object.freeze({ queueOffline: true, signal: undefined })

/**
 * Where a session's link is, as its owner sees it: `up` sends at once; `pending` (connecting, or
 * coming back) holds publishes in the offline queue; `down` refuses them.
 */
export type SessionLink = 'up' | 'pending' | 'down'

/** How a `SessionCore` hands one message to its carrier. */
export interface CarrierSendOptions {
  /** Whether the carrier itself may hold the message while its own link is down. */
  queueOffline: boolean
  /** Withdraws the message while the carrier still holds it. */
  signal: AbortSignal | undefined
}

/**
 * What a `SessionCore` needs from the transport that carries its messages: a device's own MQTT
 * client (`Connection`), or a gateway's session for a logged-in sub-device.
 */
export interface SessionCarrier {
  /** True when a message sent now leaves at once (nothing on the way holds it). */
  readonly connected: boolean
  /**
   * Sends one message now: calls `resolve` once it left (QoS 1: on PUBACK), or `reject` with why it
   * did not. Two callbacks rather than a promise: a request hands its message over with no promise.
   */
  send(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    options: CarrierSendOptions,
    resolve: () => void,
    reject: (error: LinkkitError) => void,
  ): void
  /**
   * Makes sure replies on `replyTopic` reach this session (a SUBSCRIBE when no filter covers it
   * yet); undefined when they already do.
   */
  ensureReplyRoute(replyTopic: string): Promise<void> | undefined
  /** The error a publish gets while the link is `down` (not connected, closed, not logged in). */
  refusal(topic: string): LinkkitError
  /** Reports what no promise can: a handler that threw, a malformed reply, an overflowed queue. */
  report(error: LinkkitError, topic?: string): void
}

/** The limits and defaults of a `SessionCore`. */
export interface SessionCoreOptions {
  /** How long a request waits for its reply when it names no timeout. */
  requestTimeoutMs: number
  /** The QoS of requests that name none. */
  alinkQos: Qos
  /** The bound of the offline queue. */
  offlineQueue: OfflineQueueOptions
}

/**
 * The transport-independent half of a `Session`: Alink ids, local routing of inbound messages by
 * topic filter, requests matched to their `_reply`, and the offline queue that holds publishes
 * while the link is coming back. A session carried by some transport (a device's MQTT client, a
 * gateway's connection for a sub-device) owns one, tells it where the link is (`link`, `up()`),
 * hands it every inbound message (`deliver`), and delegates `publish`, `request`, `reply` and
 * `route` to it; the carrier sends, subscribes and reports.
 */
export class SessionCore {
  /** Where the link is; the owner sets it (`up()` also sends what waited). */
  link: SessionLink = 'down'
  readonly #carrier: SessionCarrier
  readonly #router: TopicRouter
  readonly #pending = new PendingRequests()
  readonly #queue: OfflineQueue
  readonly #ids = new AlinkIds()
  /** How `request` reaches this session; made once, not per request. */
  readonly #channel: RequestChannel

  constructor(carrier: SessionCarrier, options: SessionCoreOptions) {
    this.#carrier = carrier
    this.#queue = new OfflineQueue(options.offlineQueue)
    this.#router = new TopicRouter((error, topic) =>
      carrier.report(toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD'), topic),
    )
    this.#channel = {
      nextId: () => this.#ids.next(),
      publish: (t, payload, o) => this.publish(t, payload, o),
      ensureReplyRoute: (replyTopic) => carrier.ensureReplyRoute(replyTopic),
      pending: this.#pending,
      defaultTimeoutMs: options.requestTimeoutMs,
      defaultQos: options.alinkQos,
      isConnected: () => this.link === 'up' && carrier.connected,
      // While connected a request's message goes straight to the carrier, with no promise per
      // publish; a failure reaches the waiting request through `onError`.
      sendNow: (t, payload, qos, onError) => {
        carrier.send(t, wirePayload(payload), qos, SEND_NOW, noop, onError)
      },
    }
  }

  /** Messages waiting in the offline queue. */
  get queuedCount(): number {
    return this.#queue.size
  }

  /** Bytes (payloads and topics) waiting in the offline queue. */
  get queuedBytes(): number {
    return this.#queue.bytes
  }

  /** Requests waiting for their reply. */
  get pendingCount(): number {
    return this.#pending.size
  }

  /** A fresh Alink message id (decimal string). */
  nextId(): string {
    return this.#ids.next()
  }

  /** Routes inbound messages matching `filter` to `handler`; returns a function removing the route. */
  route(filter: string, handler: MessageHandler): () => void {
    return this.#router.add(filter, handler)
  }

  /**
   * Publishes: at once while `up`; while `pending`, QoS 1 messages (and any with `queueOffline:
   * true`) wait in the offline queue and leave in order on `up()`; otherwise it rejects with the
   * carrier's refusal. An invalid topic rejects (never throws) with ERR_INVALID_TOPIC_VALUE.
   */
  publish(topic: string, payload: Payload, options: PublishOptions = {}): Promise<void> {
    try {
      assertTopicName(topic)
    } catch (error) {
      return Promise.reject(error)
    }
    const qos = options.qos ?? 1
    const { signal } = options
    if (signal?.aborted)
      return Promise.reject(
        new LinkkitError('ERR_ABORTED', 'publish aborted', { topic, cause: signal.reason }),
      )
    const wire = wirePayload(payload)
    const queueOffline = options.queueOffline ?? qos === 1
    const link = this.link
    if (link === 'down' || (link === 'pending' && !queueOffline))
      return Promise.reject(this.#carrier.refusal(topic))
    return new Promise<void>((resolve, reject) => {
      if (link === 'up') {
        this.#carrier.send(topic, wire, qos, { queueOffline, signal }, resolve, reject)
        return
      }
      const entry = { topic, payload: payloadBytes(wire), qos, resolve, reject }
      const overflowed = this.#queue.push(entry, signal)
      if (overflowed !== undefined && overflowed !== entry)
        this.#carrier.report(new LinkkitError('ERR_OFFLINE_QUEUE_FULL', undefined, { topic }), topic)
    })
  }

  /**
   * Sends an Alink request on `topic` and resolves with the `<topic>_reply` that carries its id.
   * A non-200 reply rejects with ERR_REPLY (`replyCode`); no reply in time with ERR_REQUEST_TIMEOUT;
   * an invalid topic (never a throw) with ERR_INVALID_TOPIC_VALUE.
   */
  request<D = unknown>(topic: string, params: unknown, options: RequestOptions = {}): Promise<AlinkReply<D>> {
    // Checked before anything else: an invalid topic must not get as far as a reply SUBSCRIBE.
    try {
      assertTopicName(topic)
    } catch (error) {
      return Promise.reject(error)
    }
    return sendRequest<D>(this.#channel, topic, params, options)
  }

  /** Answers a cloud request on `topic` with `{ id, code, data }` (QoS 0, as the C SDKs do). */
  reply(topic: string, id: string, code: number, data: unknown = {}, message?: string): Promise<void> {
    const body: Record<string, unknown> = { id, code, data }
    if (message !== undefined) body.message = message
    return this.publish(topic, body, { qos: 0 })
  }

  /**
   * One inbound message of this session: a reply a request waits on settles it; everything else
   * goes to the matching routes. Other `_reply` topics (binary up_raw_reply, a service whose id ends
   * in _reply) reach their routes untouched.
   */
  deliver(topic: string, payload: Buffer): void {
    if (topic.endsWith('_reply') && this.#pending.waitsOn(topic) && this.#settleReply(topic, payload)) return
    this.#router.dispatch(topic, payload)
  }

  /** The link is up: sends what waited in the offline queue, oldest first. */
  up(): void {
    this.link = 'up'
    for (const e of this.#queue.drain()) {
      this.#carrier.send(e.topic, e.payload, e.qos, DRAINED, e.resolve, e.reject)
    }
  }

  /** Rejects every queued publish and waiting request with `error` (on close, logout or a fatal failure). */
  rejectAll(error: LinkkitError): void {
    this.#queue.rejectAll(error)
    this.#pending.rejectAll(error)
  }

  #settleReply(topic: string, payload: Buffer): boolean {
    let reply: AlinkReply
    try {
      reply = parseReply(payload, topic)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD')
      const id = peekId(payload)
      if (id === undefined || !this.#pending.failReply(topic, id, err)) this.#carrier.report(err, topic)
      return true
    }
    return this.#pending.settle(topic, reply)
  }
}
