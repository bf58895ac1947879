import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { AlinkReply } from './alink.js'
import type {
  ConnectionEvents,
  ConnectionState,
  ConnectOptions,
  Payload,
  PublishOptions,
  RequestOptions,
} from './connection-types.js'
import { LinkWiring, SessionWiring } from './connection-wiring.js'
import { LinkkitError } from './errors.js'
import { createLogger } from './logger.js'
import { MqttLink } from './mqtt-link.js'
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js'
import type { MessageHandler } from './router.js'
import type { Session } from './session.js'
import { SessionCore } from './session-core.js'
import type { Qos } from './subscriptions.js'
import { BrokerSubscriptions } from './subscriptions.js'

/**
 * One device's MQTT session: signing, subscriptions, reconnect with backoff, offline queue,
 * request/reply. The MQTT client's life (first connect, reconnect loop, end) is its `MqttLink`'s;
 * publishing, requests, routing and the offline queue are its `SessionCore`'s, and its
 * subscriptions on the broker its `BrokerSubscriptions`'. This class ties them together.
 */
export class Connection extends EventEmitter<ConnectionEvents> implements Session {
  /** The validated options with every default filled in. */
  readonly options: Readonly<ResolvedConnectionOptions>
  /** The pino logger of this connection (silent unless configured); components take children of it. */
  readonly logger: Logger
  readonly #session: SessionCore
  readonly #broker: BrokerSubscriptions
  readonly #link: MqttLink
  #connecting: Promise<this> | undefined
  #closing: Promise<void> | undefined

  constructor(options: ConnectionOptions) {
    super()
    this.options = resolveConnectionOptions(options)
    this.logger = createLogger(this.options.logger, 'connection')
    const wiring = new SessionWiring(this)
    this.#link = new MqttLink(this.options, this.logger, new LinkWiring(wiring))
    this.#broker = new BrokerSubscriptions(() => this.#link.client)
    this.#session = new SessionCore(wiring, this.options)
    wiring.link = this.#link
    wiring.broker = this.#broker
    wiring.session = this.#session
  }

  /** The device's product key. */
  get productKey(): string {
    return this.options.productKey
  }

  /** The device's name. */
  get deviceName(): string {
    return this.options.deviceName
  }

  /** How long a request waits for its reply when it names none (`requestTimeoutMs`). */
  get requestTimeoutMs(): number {
    return this.options.requestTimeoutMs
  }

  /** The QoS of Alink requests that name none (`alinkQos`). */
  get alinkQos(): Qos {
    return this.options.alinkQos
  }

  /** Where the session is: `idle`, `connecting`, `connected`, `reconnecting`, `closed` or `failed`. */
  get state(): ConnectionState {
    return this.#link.state
  }

  /** True while the MQTT session is up and subscribed. */
  get connected(): boolean {
    return this.#link.state === 'connected'
  }

  /** Messages waiting in the offline queue. */
  get queuedCount(): number {
    return this.#session.queuedCount
  }

  /** Bytes (payloads and topics) waiting in the offline queue; bounded by `offlineQueue.maxBytes`. */
  get queuedBytes(): number {
    return this.#session.queuedBytes
  }

  /** A fresh Alink message id (decimal string). */
  nextId(): string {
    return this.#session.nextId()
  }

  /**
   * Connects and resolves once CONNACK arrived and every subscription is acknowledged, within
   * `connectTimeoutMs` (ERR_CONNECT_TIMEOUT). Aborting `signal` stops the attempt: it rejects with
   * ERR_ABORTED and the MQTT client is ended; `connect()` may be called again.
   */
  connect(options: ConnectOptions = {}): Promise<this> {
    if (this.state === 'closed')
      return Promise.reject(new LinkkitError('ERR_CLOSED', 'connection was closed'))
    if (this.state === 'connected') return Promise.resolve(this)
    const { signal } = options
    if (signal?.aborted) return Promise.reject(aborted(signal))
    this.#connecting ??= this.#firstConnect().finally(() => {
      this.#connecting = undefined
    })
    if (signal === undefined) return this.#connecting
    const onAbort = () => this.#link.settle(aborted(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    return this.#connecting.finally(() => signal.removeEventListener('abort', onAbort))
  }

  async #firstConnect(): Promise<this> {
    await this.#link.open()
    return this
  }

  /**
   * Wants `filter` on the broker (restored after reconnects) and, when given, routes its messages
   * to `handler`. Resolves once the broker acknowledged (immediately when not connected yet: the
   * subscription is then made by `connect()`); a refusal (SUBACK 128) rejects with
   * ERR_SUBSCRIBE_FAILED. The returned function undoes both.
   */
  async subscribe(
    filter: string,
    handler?: MessageHandler,
    options: PublishOptions = {},
  ): Promise<() => Promise<void>> {
    const unroute = handler ? this.#session.route(filter, handler) : noop
    try {
      await this.#broker.add(filter, options.qos ?? 1)
    } catch (error) {
      unroute()
      throw error
    }
    return undoSubscribe(this.#broker, filter, unroute)
  }

  /** Routes matching inbound messages to `handler` without subscribing (for `_ss=1` server-side subscriptions). */
  route(filter: string, handler: MessageHandler): () => void {
    return this.#session.route(filter, handler)
  }

  /**
   * Publishes; QoS 1 resolves on PUBACK, QoS 0 once handed to the socket. While (re)connecting,
   * QoS 1 messages (and any with `queueOffline: true`) wait in the bounded offline queue and are
   * sent in order once the session is back; the others reject with ERR_NOT_CONNECTED. An invalid
   * topic rejects with ERR_INVALID_TOPIC_VALUE.
   */
  publish(topic: string, payload: Payload, options: PublishOptions = {}): Promise<void> {
    return this.#session.publish(topic, payload, options)
  }

  /**
   * Sends an Alink request on `topic` and resolves with the `<topic>_reply` that carries its id.
   * A non-200 reply rejects with ERR_REPLY (`replyCode`); no reply in time rejects with ERR_REQUEST_TIMEOUT.
   * It goes at QoS `options.qos ?? alinkQos` (0 by default: the reply is the acknowledgement) and,
   * while reconnecting, waits in the offline queue unless `queueOffline: false`.
   */
  request<D = unknown>(topic: string, params: unknown, options: RequestOptions = {}): Promise<AlinkReply<D>> {
    return this.#session.request<D>(topic, params, options)
  }

  /** Answers a cloud request on `topic` with `{ id, code, data }` (QoS 0, as the C SDKs do). */
  reply(topic: string, id: string, code: number, data: unknown = {}, message?: string): Promise<void> {
    return this.#session.reply(topic, id, code, data, message)
  }

  /** Disconnects and releases everything. Idempotent; pending requests and queued publishes reject with ERR_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const wasConnected = this.connected
    this.#link.halt()
    if (this.#link.connecting || this.#session.queuedCount > 0 || this.#session.pendingCount > 0) {
      const error = new LinkkitError('ERR_CLOSED', 'connection was closed')
      this.#link.settle(error)
      this.#session.rejectAll(error)
    }
    await this.#link.end()
    if (wasConnected) this.emit('disconnected', {})
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

function aborted(signal: AbortSignal): LinkkitError {
  return new LinkkitError('ERR_ABORTED', 'connect aborted', { cause: signal.reason })
}

function noop(): void {}

/**
 * The one function that undoes a `subscribe` (idempotent). Made outside the method so it holds
 * only what it needs: a device keeps one per filter for its whole life.
 */
function undoSubscribe(
  broker: BrokerSubscriptions,
  filter: string,
  unroute: () => void,
): () => Promise<void> {
  let done = false
  return async () => {
    if (done) return
    done = true
    unroute()
    await broker.release(filter)
  }
}
