import {
  type AlinkReply,
  type CarrierSendOptions,
  type ConnectionState,
  LinkkitError,
  mqttClientError,
  type Payload,
  type PublishOptions,
  type Qos,
  type RequestOptions,
  type Session,
  type SessionCarrier,
  SessionCore,
  type SessionEvents,
  type SessionMessageHandler,
} from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { MqttClient } from 'mqtt'
import type { Logger } from 'pino'
import type { SimDevice } from './sim-device.js'

/** What every simulated device's session shares. */
export interface SimSessionSettings {
  /** The fleet's logger (silent unless the caller gave one). */
  logger: Logger
  requestTimeoutMs: number
  /** Reports what no promise can. */
  report(error: LinkkitError): void
}

/** The session's link is up or down, never pending: it holds nothing in an offline queue. */
const NO_QUEUE = Object.freeze({ maxSize: 0, maxBytes: 0, overflow: 'reject-new' as const })

/**
 * The `Session` of one simulated device while it takes an upgrade (what `FotaClient` talks over),
 * made when an offer arrives and dropped when the upgrade ends: a `SessionCore` whose carrier is
 * the device's MQTT.js client of the moment. Once that client is gone (the device went offline or
 * rebooted) the session is down for good; the next upgrade gets a new one.
 */
export class SimSession extends EventEmitter<SessionEvents> implements Session, SessionCarrier {
  readonly productKey: string
  readonly deviceName: string
  readonly logger: Logger
  readonly requestTimeoutMs: number
  readonly alinkQos = 0 as const
  readonly #sim: SimDevice
  readonly #client: MqttClient
  readonly #settings: SimSessionSettings
  readonly #core: SessionCore
  #closed = false

  constructor(sim: SimDevice, client: MqttClient, settings: SimSessionSettings) {
    super()
    this.productKey = sim.triple.productKey
    this.deviceName = sim.triple.deviceName
    this.logger = settings.logger
    this.requestTimeoutMs = settings.requestTimeoutMs
    this.#sim = sim
    this.#client = client
    this.#settings = settings
    this.#core = new SessionCore(this, {
      requestTimeoutMs: settings.requestTimeoutMs,
      alinkQos: 0,
      offlineQueue: NO_QUEUE,
    })
    this.#core.link = 'up'
  }

  get connected(): boolean {
    return !this.#closed && this.#sim.client === this.#client && this.#client.connected
  }

  get state(): ConnectionState {
    return this.connected ? 'connected' : 'closed'
  }

  nextId(): string {
    return this.#core.nextId()
  }

  async subscribe(
    filter: string,
    handler?: SessionMessageHandler,
    options: PublishOptions = {},
  ): Promise<() => Promise<void>> {
    await this.#subscribe(filter, options.qos ?? 1)
    const unroute = handler === undefined ? undefined : this.#core.route(filter, handler)
    return async () => {
      unroute?.()
      if (this.connected) await this.#client.unsubscribeAsync(filter)
    }
  }

  route(filter: string, handler: SessionMessageHandler): () => void {
    return this.#core.route(filter, handler)
  }

  publish(topic: string, payload: Payload, options?: PublishOptions): Promise<void> {
    return this.#core.publish(topic, payload, options)
  }

  request<D = unknown>(topic: string, params: unknown, options?: RequestOptions): Promise<AlinkReply<D>> {
    return this.#core.request<D>(topic, params, options)
  }

  reply(topic: string, id: string, code: number, data?: unknown, message?: string): Promise<void> {
    return this.#core.reply(topic, id, code, data, message)
  }

  /** One inbound message of the device the fleet did not handle itself. */
  deliver(topic: string, payload: Buffer): void {
    if (!this.#closed) this.#core.deliver(topic, payload)
  }

  /** The upgrade ended or the device went offline: what still waits is refused. Idempotent. */
  close(): void {
    if (this.#closed) return
    this.#closed = true
    this.#core.link = 'down'
    this.#core.rejectAll(this.refusal(''))
    this.emit('disconnected', {})
    this.removeAllListeners()
  }

  // The carrier half (`SessionCarrier`): the device's MQTT.js client.

  send(
    topic: string,
    payload: string | Uint8Array,
    qos: Qos,
    _options: CarrierSendOptions,
    resolve: () => void,
    reject: (error: LinkkitError) => void,
  ): void {
    if (!this.connected) {
      reject(this.refusal(topic))
      return
    }
    this.#client.publish(topic, payload as string | Buffer, { qos }, (error) => {
      if (error) reject(mqttClientError(error))
      else resolve()
    })
  }

  ensureReplyRoute(replyTopic: string): Promise<void> | undefined {
    // The post replies are subscribed at connect; any other reply (a firmware query's) is asked for.
    if (replyTopic.endsWith('/thing/event/property/post_reply')) return undefined
    return this.#subscribe(replyTopic, 1)
  }

  refusal(topic: string): LinkkitError {
    return new LinkkitError('ERR_NOT_CONNECTED', 'the simulated device is offline', { topic })
  }

  report(error: LinkkitError): void {
    this.#settings.report(error)
  }

  #subscribe(filter: string, qos: Qos): Promise<void> {
    if (!this.connected) return Promise.reject(this.refusal(filter))
    return new Promise((resolve, reject) => {
      this.#client.subscribe(filter, { qos }, (error, granted) => {
        if (error) reject(mqttClientError(error))
        else if (granted?.some((g) => g.qos === 128))
          reject(new LinkkitError('ERR_SUBSCRIBE_FAILED', `${filter} was refused`, { topic: filter }))
        else resolve()
      })
    })
  }
}
