import { EventEmitter } from 'eventemitter3'
import type { MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { AlinkReply } from './alink.js'
import { backoffDelay } from './backoff.js'
import { mqttClientOptions } from './client-options.js'
import { connackError, transportError } from './connack.js'
import type {
  ConnectionEvents,
  ConnectionState,
  ConnectOptions,
  Payload,
  PublishOptions,
  RequestOptions,
} from './connection-types.js'
import { payloadBytes } from './connection-types.js'
import { LinkkitError, toLinkkitError } from './errors.js'
import { createLogger } from './logger.js'
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js'
import type { MessageHandler } from './router.js'
import { emitError } from './safe-emit.js'
import type { Session } from './session.js'
import { type SessionCarrier, SessionCore, type SessionLink } from './session-core.js'
import type { Qos } from './subscriptions.js'
import { BrokerSubscriptions } from './subscriptions.js'

const LINK: Readonly<Record<ConnectionState, SessionLink>> = {
  idle: 'down',
  connecting: 'pending',
  connected: 'up',
  reconnecting: 'pending',
  closed: 'down',
  failed: 'down',
}

/**
 * One device's MQTT session: signing, subscriptions, reconnect with backoff, offline queue,
 * request/reply. The MQTT client's life (connect, reconnect, close) is here; publishing, requests,
 * routing and the offline queue are its `SessionCore`'s, and its subscriptions on the broker its
 * `BrokerSubscriptions`'.
 */
export class Connection extends EventEmitter<ConnectionEvents> implements Session {
  /** The validated options with every default filled in. */
  readonly options: Readonly<ResolvedConnectionOptions>
  /** The pino logger of this connection (silent unless configured); components take children of it. */
  readonly logger: Logger
  readonly #session: SessionCore
  readonly #carrier: { connected: boolean } & SessionCarrier
  readonly #broker: BrokerSubscriptions
  #client: MqttClient | undefined
  #state: ConnectionState = 'idle'
  #attempt = 0
  #everConnected = false
  #reconnectTimer: NodeJS.Timeout | undefined
  #connecting: Promise<this> | undefined
  #closing: Promise<void> | undefined
  #settleConnect: ((error?: LinkkitError) => void) | undefined

  constructor(options: ConnectionOptions) {
    super()
    this.options = resolveConnectionOptions(options)
    this.logger = createLogger(this.options.logger, 'connection')
    this.#broker = new BrokerSubscriptions(() => (this.#state === 'connected' ? this.#client : undefined))
    this.#carrier = this.#makeCarrier()
    this.#session = new SessionCore(this.#carrier, this.options)
  }

  // `connected` is a field #setState keeps, not a getter: V8 keeps an object literal with a getter
  // in dictionary mode (some 400 bytes more), and a fleet holds one per device.
  #makeCarrier(): { connected: boolean } & SessionCarrier {
    return {
      connected: false,
      send: (topic, payload, qos, _options, resolve, reject) =>
        this.#send(topic, payload, qos, resolve, reject),
      ensureReplyRoute: (replyTopic) =>
        this.#broker.covers(replyTopic) ? undefined : this.subscribe(replyTopic).then(() => {}),
      refusal: (topic) => this.#notConnected(topic),
      report: (error, topic) => this.#report(error, topic),
    }
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
    return this.#state
  }

  /** True while the MQTT session is up and subscribed. */
  get connected(): boolean {
    return this.#state === 'connected'
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

  #setState(state: ConnectionState): void {
    this.#state = state
    this.#carrier.connected = state === 'connected'
    if (state === 'connected') this.#session.up()
    else this.#session.link = LINK[state]
  }

  /**
   * Connects and resolves once CONNACK arrived and every subscription is acknowledged, within
   * `connectTimeoutMs` (ERR_CONNECT_TIMEOUT). Aborting `signal` stops the attempt: it rejects with
   * ERR_ABORTED and the MQTT client is ended; `connect()` may be called again.
   */
  connect(options: ConnectOptions = {}): Promise<this> {
    if (this.#state === 'closed')
      return Promise.reject(new LinkkitError('ERR_CLOSED', 'connection was closed'))
    if (this.#state === 'connected') return Promise.resolve(this)
    const { signal } = options
    if (signal?.aborted) return Promise.reject(aborted(signal))
    this.#connecting ??= this.#firstConnect().finally(() => {
      this.#connecting = undefined
    })
    if (signal === undefined) return this.#connecting
    const onAbort = () => this.#settleConnect?.(aborted(signal))
    signal.addEventListener('abort', onAbort, { once: true })
    return this.#connecting.finally(() => signal.removeEventListener('abort', onAbort))
  }

  async #firstConnect(): Promise<this> {
    this.#setState('connecting')
    const { options } = this
    const done = new Promise<void>((resolve, reject) => {
      this.#settleConnect = (error) => (error ? reject(error) : resolve())
    })
    // Armed first, before MQTT.js arms its CONNACK timer of the same length, so this one decides
    // and the attempt takes connectTimeoutMs, no more.
    const timer = setTimeout(() => {
      this.#settleConnect?.(
        new LinkkitError('ERR_CONNECT_TIMEOUT', `not connected within ${options.connectTimeoutMs} ms`),
      )
    }, options.connectTimeoutMs)
    let client: MqttClient | undefined
    try {
      const { credentials, mqttOptions } = mqttClientOptions(options)
      this.logger.debug({ brokerUrl: options.brokerUrl, clientId: credentials.clientId }, 'connecting')
      // MQTT.js is loaded on the first connect, not at import: a process that only uses the rest of
      // linkkit (the CLI's key and OTA commands, a firmware download) does not pay its ~14 MiB of RSS.
      const { connect: mqttConnect } = await import('mqtt')
      // close() may have run while MQTT.js loaded (TypeScript does not see the await change #state).
      if ((this.#state as ConnectionState) === 'closed') {
        throw new LinkkitError('ERR_CLOSED', 'connection was closed')
      }
      const created = mqttConnect(options.brokerUrl, mqttOptions)
      client = created
      this.#client = created
      created.on('connect', (connack) => void this.#onConnect(created, connack.sessionPresent === true))
      created.on('message', (topic, payload) => this.#onMessage(topic, payload))
      created.on('error', (error) => this.#onClientError(error))
      created.on('close', () => this.#onClose(created))
      created.connect()
      await done
      return this
    } catch (error) {
      this.#setState('failed')
      client?.end(true)
      throw error
    } finally {
      clearTimeout(timer)
      this.#settleConnect = undefined
    }
  }

  async #onConnect(client: MqttClient, sessionPresent: boolean): Promise<void> {
    const reconnect = this.#everConnected
    this.#attempt = 0
    try {
      if (!sessionPresent || !reconnect) await this.#broker.restore(client)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')
      if (!reconnect) {
        this.#settleConnect?.(err)
        return
      }
      this.#report(err)
    }
    if (this.#client !== client || !client.connected) return
    if (this.#state !== 'connecting' && this.#state !== 'reconnecting') return
    this.#everConnected = true
    this.#setState('connected')
    this.logger.info({ sessionPresent, reconnect }, 'connected')
    this.#settleConnect?.()
    this.emit('connected', { sessionPresent, reconnect })
  }

  #onClientError(error: Error & { code?: unknown }): void {
    const err = typeof error.code === 'number' ? connackError(error.code) : transportError(error)
    this.logger.debug({ code: err.code, err: error.message }, 'mqtt error')
    if (this.#settleConnect) {
      this.#settleConnect(err)
      return
    }
    if (err.code === 'ERR_CONNACK_BAD_CREDENTIALS' || err.code === 'ERR_CONNACK_NOT_AUTHORIZED') {
      // The platform refused who we are: retrying would only hammer it (and the C SDK gives up too).
      this.#fail(err)
      return
    }
    this.#report(err)
  }

  #onClose(client: MqttClient): void {
    if (this.#client !== client) return
    if (this.#state === 'closed' || this.#state === 'failed' || this.#state === 'idle') return
    if (this.#state === 'connecting') {
      this.#settleConnect?.(new LinkkitError('ERR_CONNECTION', 'connection closed before CONNACK'))
      return
    }
    if (this.#state === 'connected') {
      this.#setState('reconnecting')
      this.logger.warn('disconnected')
      this.emit('disconnected', {})
    }
    if (!this.options.reconnect.enabled) {
      this.#fail(new LinkkitError('ERR_CONNECTION', 'connection lost and reconnect is disabled'))
      return
    }
    this.#scheduleReconnect()
  }

  #scheduleReconnect(): void {
    if (this.#reconnectTimer) return
    this.#attempt++
    const delayMs = backoffDelay(this.#attempt, this.options.reconnect)
    this.emit('reconnecting', { attempt: this.#attempt, delayMs })
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined
      const client = this.#client
      if (!client || this.#state !== 'reconnecting') return
      // Keep the stores: QoS1 messages in flight when the link dropped are resent on the new connection.
      client.reconnect({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore })
    }, delayMs)
  }

  #fail(error: LinkkitError): void {
    this.#setState('failed')
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#client?.end(true)
    this.#session.rejectAll(error)
    this.#report(error)
    this.emit('disconnected', { error })
  }

  #report(error: LinkkitError, topic?: string): void {
    this.logger.warn({ code: error.code, topic }, error.message)
    emitError(this, error, this.logger)
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.emit('message', topic, payload)
    this.#session.deliver(topic, payload)
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

  #notConnected(topic: string): LinkkitError {
    if (this.#state === 'closed') return new LinkkitError('ERR_CLOSED', 'connection was closed', { topic })
    return new LinkkitError('ERR_NOT_CONNECTED', `cannot publish to ${topic}: ${this.#state}`, { topic })
  }

  #send(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    resolve: () => void,
    reject: (error: LinkkitError) => void,
  ): void {
    const client = this.#client
    if (!client) {
      reject(this.#notConnected(topic))
      return
    }
    const bytes = typeof payload === 'string' ? payload : payloadBytes(payload)
    client.publish(topic, bytes, { qos }, (error) => {
      if (error) reject(new LinkkitError('ERR_PUBLISH_FAILED', error.message, { topic, cause: error }))
      else resolve()
    })
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
    const wasConnected = this.#state === 'connected'
    this.#setState('closed')
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    if (this.#settleConnect || this.#session.queuedCount > 0 || this.#session.pendingCount > 0) {
      const error = new LinkkitError('ERR_CLOSED', 'connection was closed')
      this.#settleConnect?.(error)
      this.#session.rejectAll(error)
    }
    const client = this.#client
    if (client) {
      // A graceful DISCONNECT, but never wait long on a dead link.
      let timer: NodeJS.Timeout | undefined
      const force = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, 2000)
        timer.unref()
      })
      await Promise.race([client.endAsync(false), force])
      clearTimeout(timer)
      if (!client.disconnected) await client.endAsync(true)
    }
    if (wasConnected) this.emit('disconnected', {})
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
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

function aborted(signal: AbortSignal): LinkkitError {
  return new LinkkitError('ERR_ABORTED', 'connect aborted', { cause: signal.reason })
}
