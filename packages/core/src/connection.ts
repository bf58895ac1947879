import { EventEmitter } from 'eventemitter3'
import { type MqttClient, connect as mqttConnect } from 'mqtt'
import type { Logger } from 'pino'
import { AlinkIds, type AlinkReply, parseReply } from './alink.js'
import { backoffDelay } from './backoff.js'
import { mqttClientOptions } from './client-options.js'
import { connackError, transportError } from './connack.js'
import type {
  ConnectionEvents,
  ConnectionState,
  Payload,
  PublishOptions,
  RequestOptions,
} from './connection-types.js'
import { payloadBytes } from './connection-types.js'
import { LinkkitError, toLinkkitError } from './errors.js'
import { peekId } from './inbound-json.js'
import { createLogger } from './logger.js'
import { OfflineQueue, type QueuedPublish } from './offline-queue.js'
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js'
import { PendingRequests } from './pending-requests.js'
import { type RequestChannel, sendRequest } from './request.js'
import { type MessageHandler, TopicRouter } from './router.js'
import { emitError } from './safe-emit.js'
import type { Session } from './session.js'
import { type Qos, SubscriptionSet } from './subscriptions.js'
import { assertTopicName } from './topics.js'
import { WithdrawableQueue } from './withdrawable-queue.js'

function noop(): void {}

/**
 * What goes to MQTT.js: text and bytes as they are, anything else as JSON text. A string is
 * encoded straight into the packet; only what waits in the offline queue is held as bytes.
 */
function wirePayload(payload: Payload): string | Uint8Array {
  return typeof payload === 'string' || payload instanceof Uint8Array ? payload : JSON.stringify(payload)
}

/** One device's MQTT session: signing, subscriptions, reconnect with backoff, offline queue, request/reply. */
export class Connection extends EventEmitter<ConnectionEvents> implements Session {
  /** The validated options with every default filled in. */
  readonly options: Readonly<ResolvedConnectionOptions>
  /** The pino logger of this connection (silent unless configured); components take children of it. */
  readonly logger: Logger
  readonly #router: TopicRouter
  readonly #subscriptions = new SubscriptionSet()
  readonly #queue: WithdrawableQueue
  readonly #pending = new PendingRequests()
  readonly #ids = new AlinkIds()
  /** How `request` reaches this session; made once, not per request. */
  #channel: RequestChannel | undefined
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
    this.#router = new TopicRouter((error, topic) =>
      this.#report(toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD'), topic),
    )
    this.#queue = new WithdrawableQueue(new OfflineQueue(this.options.offlineQueue))
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
    return this.#queue.size
  }

  /** Bytes (payloads and topics) waiting in the offline queue; bounded by `offlineQueue.maxBytes`. */
  get queuedBytes(): number {
    return this.#queue.bytes
  }

  /** A fresh Alink message id (decimal string). */
  nextId(): string {
    return this.#ids.next()
  }

  /** Connects and resolves once CONNACK arrived and every subscription is acknowledged. */
  connect(): Promise<this> {
    if (this.#state === 'closed')
      return Promise.reject(new LinkkitError('ERR_CLOSED', 'connection was closed'))
    if (this.#state === 'connected') return Promise.resolve(this)
    this.#connecting ??= this.#firstConnect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #firstConnect(): Promise<this> {
    this.#state = 'connecting'
    const { options } = this
    const { credentials, mqttOptions } = mqttClientOptions(options)
    this.logger.debug({ brokerUrl: options.brokerUrl, clientId: credentials.clientId }, 'connecting')
    const client = mqttConnect(options.brokerUrl, mqttOptions)
    this.#client = client
    const done = new Promise<void>((resolve, reject) => {
      this.#settleConnect = (error) => (error ? reject(error) : resolve())
    })
    const timer = setTimeout(() => {
      this.#settleConnect?.(
        new LinkkitError('ERR_CONNECT_TIMEOUT', `not connected within ${options.connectTimeoutMs} ms`),
      )
    }, options.connectTimeoutMs + 1000)
    client.on('connect', (connack) => void this.#onConnect(connack.sessionPresent === true))
    client.on('message', (topic, payload) => this.#onMessage(topic, payload))
    client.on('error', (error) => this.#onClientError(error))
    client.on('close', () => this.#onClose())
    client.connect()
    try {
      await done
      return this
    } catch (error) {
      this.#state = 'failed'
      client.end(true)
      throw error
    } finally {
      clearTimeout(timer)
      this.#settleConnect = undefined
    }
  }

  async #onConnect(sessionPresent: boolean): Promise<void> {
    const reconnect = this.#everConnected
    this.#attempt = 0
    try {
      if (!sessionPresent || !reconnect) await this.#subscribeOnBroker(this.#subscriptions.entries())
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')
      if (!reconnect) {
        this.#settleConnect?.(err)
        return
      }
      this.#report(err)
    }
    if (this.#state === 'closed' || this.#client?.connected !== true) return
    this.#state = 'connected'
    this.#everConnected = true
    for (const e of this.#queue.drain()) this.#send(e.topic, e.payload, e.qos, e.resolve, e.reject)
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

  #onClose(): void {
    if (this.#state === 'closed' || this.#state === 'failed' || this.#state === 'idle') return
    if (this.#state === 'connecting') {
      this.#settleConnect?.(new LinkkitError('ERR_CONNECTION', 'connection closed before CONNACK'))
      return
    }
    if (this.#state === 'connected') {
      this.#state = 'reconnecting'
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
    this.#state = 'failed'
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    this.#client?.end(true)
    this.#queue.rejectAll(error)
    this.#pending.rejectAll(error)
    this.#report(error)
    this.emit('disconnected', { error })
  }

  #report(error: LinkkitError, topic?: string): void {
    this.logger.warn({ code: error.code, topic }, error.message)
    emitError(this, error, this.logger)
  }

  #onMessage(topic: string, payload: Buffer): void {
    this.emit('message', topic, payload)
    // Only a topic a request waits on is read as an Alink reply; other `_reply` topics (binary
    // up_raw_reply, a service whose id ends in _reply) go to their routes untouched.
    if (topic.endsWith('_reply') && this.#pending.waitsOn(topic) && this.#settleReply(topic, payload)) return
    this.#router.dispatch(topic, payload)
  }

  #settleReply(topic: string, payload: Buffer): boolean {
    let reply: AlinkReply
    try {
      reply = parseReply(payload, topic)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD')
      const id = peekId(payload)
      if (id === undefined || !this.#pending.failReply(topic, id, err)) this.#report(err, topic)
      return true
    }
    if (this.#pending.settle(topic, reply)) return true
    this.logger.debug({ topic, id: reply.id }, 'late or unknown reply')
    return false
  }

  /**
   * Wants `filter` on the broker (restored after reconnects) and, when given, routes its messages
   * to `handler`. Resolves once the broker acknowledged (immediately when not connected yet: the
   * subscription is then made by `connect()`). The returned function undoes both.
   */
  async subscribe(
    filter: string,
    handler?: MessageHandler,
    options: PublishOptions = {},
  ): Promise<() => Promise<void>> {
    const qos = options.qos ?? 1
    const unroute = handler ? this.#router.add(filter, handler) : () => {}
    if (this.#subscriptions.add(filter, qos) && this.connected) {
      try {
        await this.#subscribeOnBroker({ [filter]: { qos: this.#subscriptions.qos(filter) } })
      } catch (error) {
        unroute()
        this.#subscriptions.release(filter)
        throw error
      }
    }
    let done = false
    return async () => {
      if (done) return
      done = true
      unroute()
      if (this.#subscriptions.release(filter) && this.connected) await this.#client?.unsubscribeAsync(filter)
    }
  }

  /** Routes matching inbound messages to `handler` without subscribing (for `_ss=1` server-side subscriptions). */
  route(filter: string, handler: MessageHandler): () => void {
    return this.#router.add(filter, handler)
  }

  async #subscribeOnBroker(filters: Record<string, { qos: Qos }>): Promise<void> {
    const client = this.#client
    if (!client || Object.keys(filters).length === 0) return
    const granted = await client.subscribeAsync(filters)
    const refused = granted.filter((g) => (g.qos as number) === 128).map((g) => g.topic)
    if (refused.length > 0) {
      throw new LinkkitError('ERR_SUBSCRIBE_FAILED', `broker refused subscription to ${refused.join(', ')}`, {
        topic: refused[0],
        details: { refused },
      })
    }
  }

  /**
   * Publishes; QoS 1 resolves on PUBACK, QoS 0 once handed to the socket. While (re)connecting,
   * QoS 1 messages (and any with `queueOffline: true`) wait in the bounded offline queue and are
   * sent in order once the session is back; the others reject with ERR_NOT_CONNECTED.
   */
  publish(topic: string, payload: Payload, options: PublishOptions = {}): Promise<void> {
    const qos = options.qos ?? 1
    assertTopicName(topic)
    const wire = wirePayload(payload)
    const { signal } = options
    if (signal?.aborted)
      return Promise.reject(
        new LinkkitError('ERR_ABORTED', 'publish aborted', { topic, cause: signal.reason }),
      )
    const queueOffline = options.queueOffline ?? qos === 1
    return new Promise<void>((resolve, reject) => {
      if (this.#state === 'connected') this.#send(topic, wire, qos, resolve, reject)
      else if ((this.#state === 'reconnecting' || this.#state === 'connecting') && queueOffline) {
        const entry: QueuedPublish = { topic, payload: payloadBytes(wire), qos, resolve, reject }
        const overflowed = this.#queue.push(entry, signal)
        if (overflowed && overflowed !== entry)
          this.#report(new LinkkitError('ERR_OFFLINE_QUEUE_FULL', undefined, { topic }))
      } else reject(this.#notConnected(topic))
    })
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
    this.#channel ??= {
      nextId: () => this.nextId(),
      publish: (t, payload, o) => this.publish(t, payload, o),
      ensureReplyRoute: (replyTopic) => {
        if (this.#subscriptions.covers(replyTopic)) return undefined
        return this.subscribe(replyTopic, undefined, { qos: 1 }).then(() => {})
      },
      pending: this.#pending,
      defaultTimeoutMs: this.options.requestTimeoutMs,
      defaultQos: this.options.alinkQos,
      isConnected: () => this.#state === 'connected',
      sendNow: (t, payload, qos, onError) => {
        assertTopicName(t)
        this.#send(t, wirePayload(payload), qos, noop, onError)
      },
    }
    return sendRequest<D>(this.#channel, topic, params, options)
  }

  /** Answers a cloud request on `topic` with `{ id, code, data }` (QoS 0, as the C SDKs do). */
  reply(topic: string, id: string, code: number, data: unknown = {}, message?: string): Promise<void> {
    const body: Record<string, unknown> = { id, code, data }
    if (message !== undefined) body.message = message
    return this.publish(topic, body, { qos: 0 })
  }

  /** Disconnects and releases everything. Idempotent; pending requests and queued publishes reject with ERR_CLOSED. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const wasConnected = this.#state === 'connected'
    this.#state = 'closed'
    clearTimeout(this.#reconnectTimer)
    this.#reconnectTimer = undefined
    if (this.#settleConnect || this.#queue.size > 0 || this.#pending.size > 0) {
      const error = new LinkkitError('ERR_CLOSED', 'connection was closed')
      this.#settleConnect?.(error)
      this.#queue.rejectAll(error)
      this.#pending.rejectAll(error)
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
