import {
  type AlinkReply,
  type Connection,
  type ConnectionState,
  type DeviceIdentity,
  isLinkkitError,
  LinkkitError,
  type MessageHandler,
  type Payload,
  type PublishOptions,
  type Qos,
  type RequestOptions,
  type Session,
  type SessionCarrier,
  SessionCore,
  type SessionEvents,
  safeEmit,
  toLinkkitError,
  WireCodes,
} from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'

type Phase = 'idle' | 'connecting' | 'online' | 'resuming' | 'closed'

/** What the sub-device session needs to tell its `SubDevice`. */
export interface SubSessionHooks {
  /** The platform answered 520: it holds no session for the sub-device any more. */
  sessionLost(error: LinkkitError): void
}

/**
 * A sub-device's `Session`, carried by its gateway's MQTT connection, so `ThingClient`, `FotaClient`
 * and `OtaSession` work on a sub-device exactly as on a directly connected device
 * (docs/protocol.md §5: once logged in, the sub-device's own topics travel over the gateway's
 * connection). It is not a `Connection`: it signs nothing and opens no socket. Its ids, routing,
 * requests and offline queue are a `SessionCore` of its own; sending goes through the gateway.
 *
 * It receives what the gateway's dispatcher hands to `deliver()`, so routing a message costs one
 * map lookup however many sub-devices there are. Broker subscriptions exist only while the
 * sub-device is logged in: they are made at login, dropped at logout and when the gateway's link
 * drops, and made again after the re-login (the platform refuses a sub-device's topics before its
 * session exists). Requests and QoS 1 publishes made while logging in (again) wait in its own
 * offline queue.
 */
export class SubDeviceSession extends EventEmitter<SessionEvents> implements Session {
  /** The gateway's connection, which carries this sub-device. */
  readonly gateway: Connection
  /** The gateway's logger (a sub-device has no socket of its own to log about). */
  readonly logger: Logger
  readonly #hooks: SubSessionHooks
  readonly #identity: DeviceIdentity
  readonly #core: SessionCore
  /** Broker filters wanted while online, each with its undo once subscribed on the gateway. */
  readonly #broker = new Map<string, (() => Promise<void>) | undefined>()
  #phase: Phase = 'idle'

  constructor(gateway: Connection, identity: DeviceIdentity, hooks: SubSessionHooks) {
    super()
    this.gateway = gateway
    this.logger = gateway.logger
    this.#hooks = hooks
    this.#identity = { productKey: identity.productKey, deviceName: identity.deviceName }
    this.#core = new SessionCore(this.#carrier(), gateway.options)
  }

  #carrier(): SessionCarrier {
    const gateway = this.gateway
    return {
      get connected() {
        return gateway.connected
      },
      send: (topic, payload, qos, { queueOffline, signal }, resolve, reject) => {
        gateway
          .publish(topic, payload, { qos, queueOffline, signal })
          .then(resolve, (error: unknown) => reject(toLinkkitError(error, 'ERR_PUBLISH_FAILED')))
      },
      ensureReplyRoute: (replyTopic) => {
        const filter = this.#brokerFilter(replyTopic)
        return this.#broker.get(filter) !== undefined ? undefined : this.#want(filter)
      },
      refusal: (topic) => this.#notOnline(topic),
      report: (error) => this.#emitSafe('error', error),
    }
  }

  /** The sub-device's product key. */
  get productKey(): string {
    return this.#identity.productKey
  }

  /** The sub-device's name. */
  get deviceName(): string {
    return this.#identity.deviceName
  }

  /** The gateway's `requestTimeoutMs`. */
  get requestTimeoutMs(): number {
    return this.gateway.requestTimeoutMs
  }

  /** The gateway's `alinkQos`. */
  get alinkQos(): Qos {
    return this.gateway.alinkQos
  }

  /** `connected` while logged in and the gateway is connected; `reconnecting` while either comes back. */
  get state(): ConnectionState {
    switch (this.#phase) {
      case 'online':
        return this.gateway.connected ? 'connected' : 'reconnecting'
      case 'resuming':
        return 'reconnecting'
      default:
        return this.#phase
    }
  }

  /** Logged in and the gateway connected. */
  get connected(): boolean {
    return this.#phase === 'online' && this.gateway.connected
  }

  /** Messages waiting in this sub-device's offline queue (while it logs in). */
  get queuedCount(): number {
    return this.#core.queuedCount
  }

  /** Bytes waiting in this sub-device's offline queue. */
  get queuedBytes(): number {
    return this.#core.queuedBytes
  }

  /** A fresh Alink message id (decimal string). */
  nextId(): string {
    return this.#core.nextId()
  }

  /**
   * Wants the namespace filter carrying `filter` on the gateway's broker while logged in and, when
   * given, routes its messages to `handler`. The returned function removes the route.
   */
  async subscribe(
    filter: string,
    handler?: MessageHandler,
    _options?: PublishOptions,
  ): Promise<() => Promise<void>> {
    const unroute = handler ? this.#core.route(filter, handler) : () => {}
    await this.#want(this.#brokerFilter(filter))
    return async () => unroute()
  }

  /** Routes matching inbound messages to `handler` without subscribing. */
  route(filter: string, handler: MessageHandler): () => void {
    return this.#core.route(filter, handler)
  }

  /**
   * Publishes through the gateway while logged in; while logging in, QoS 1 messages (and any with
   * `queueOffline: true`) wait; otherwise it rejects with ERR_SUBDEVICE_NOT_LOGGED_IN.
   */
  publish(topic: string, payload: Payload, options: PublishOptions = {}): Promise<void> {
    return this.#core.publish(topic, payload, options)
  }

  /**
   * Sends an Alink request and resolves with its `_reply`; a 520 reply (the platform holds no
   * session) rejects with ERR_SUBDEVICE_NOT_LOGGED_IN and starts a re-login.
   */
  request<D = unknown>(topic: string, params: unknown, options: RequestOptions = {}): Promise<AlinkReply<D>> {
    return this.#core.request<D>(topic, params, options).catch((error: unknown) => {
      throw this.#noSession(error)
    })
  }

  /** Answers a cloud request on `topic` with `{ id, code, data }` (QoS 0). */
  reply(topic: string, id: string, code: number, data: unknown = {}, message?: string): Promise<void> {
    return this.#core.reply(topic, id, code, data, message)
  }

  /** @internal A message the gateway received on one of this sub-device's topics. */
  deliver(topic: string, payload: Buffer): void {
    if (this.#phase === 'closed') return
    this.#emitSafe('message', topic, payload)
    this.#core.deliver(topic, payload)
  }

  /** @internal The login started: requests and QoS 1 publishes wait for it. */
  connecting(): void {
    if (this.#phase !== 'idle') return
    this.#phase = 'connecting'
    this.#core.link = 'pending'
  }

  /**
   * @internal The sub-device is logged in: subscribes its topics on the gateway, sends what
   * waited, and emits `connected` (the FOTA client informs its versions on it).
   */
  async online(reconnect: boolean): Promise<void> {
    if (this.#phase === 'closed') throw new LinkkitError('ERR_CLOSED', 'the sub-device was closed')
    await Promise.all([...this.#broker.keys()].map((filter) => this.#subscribeBroker(filter)))
    this.#phase = 'online'
    this.#core.up()
    this.#emitSafe('connected', { sessionPresent: false, reconnect })
  }

  /**
   * @internal The session ended. With `resume` (the gateway's link dropped, a re-login follows)
   * queued publishes and pending requests are kept; otherwise they reject with `error`. Broker
   * subscriptions are released (only locally when the gateway is offline).
   */
  async offline(resume: boolean, error?: LinkkitError): Promise<void> {
    if (this.#phase === 'closed') return
    const was = this.#phase
    this.#phase = resume ? 'resuming' : 'idle'
    this.#core.link = resume ? 'pending' : 'down'
    if (!resume)
      this.#core.rejectAll(
        error ?? new LinkkitError('ERR_SUBDEVICE_NOT_LOGGED_IN', 'the sub-device logged out'),
      )
    const undos = [...this.#broker.entries()].flatMap(([filter, undo]) => {
      this.#broker.set(filter, undefined)
      return undo ? [undo] : []
    })
    await Promise.allSettled(undos.map((undo) => undo()))
    if (was === 'online') this.#emitSafe('disconnected', error ? { error } : {})
  }

  /** Rejects what waits with ERR_CLOSED and releases the broker subscriptions. Idempotent. */
  async close(): Promise<void> {
    if (this.#phase === 'closed') return
    await this.offline(false, new LinkkitError('ERR_CLOSED', 'the sub-device was closed'))
    this.#phase = 'closed'
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #notOnline(topic: string): LinkkitError {
    if (this.#phase === 'closed')
      return new LinkkitError('ERR_CLOSED', 'the sub-device was closed', { topic })
    const { productKey, deviceName } = this.#identity
    return new LinkkitError(
      'ERR_SUBDEVICE_NOT_LOGGED_IN',
      `sub-device ${productKey}/${deviceName} is not logged in; cannot publish to ${topic}`,
      { topic },
    )
  }

  /** 520 "device has no active session" (docs/protocol.md §2.4) becomes ERR_SUBDEVICE_NOT_LOGGED_IN. */
  #noSession(error: unknown): unknown {
    if (!isLinkkitError(error, 'ERR_REPLY') || error.replyCode !== WireCodes.noSession) return error
    const lost = new LinkkitError(
      'ERR_SUBDEVICE_NOT_LOGGED_IN',
      'the platform holds no session for the sub-device',
      { cause: error, replyCode: WireCodes.noSession, topic: error.topic },
    )
    if (this.#phase === 'online') this.#hooks.sessionLost(lost)
    return lost
  }

  /**
   * The broker filter that carries `filter`: one per namespace root (`/sys/{pk}/{dn}/#`,
   * `/ext/rrpc/+/sys/{pk}/{dn}/#`), so a sub-device costs five SUBSCRIBEs, not one per handler.
   * The platform never echoes a device's own system uplinks, so the wider filters bring nothing more.
   */
  #brokerFilter(filter: string): string {
    const { productKey, deviceName } = this.#identity
    for (const root of [
      `/sys/${productKey}/${deviceName}/`,
      `/ext/rrpc/+/sys/${productKey}/${deviceName}/`,
    ]) {
      if (filter.startsWith(root)) return `${root}#`
    }
    return filter
  }

  async #want(filter: string): Promise<void> {
    if (!this.#broker.has(filter)) this.#broker.set(filter, undefined)
    if (this.#phase === 'online' && this.gateway.connected) await this.#subscribeBroker(filter)
  }

  async #subscribeBroker(filter: string): Promise<void> {
    if (this.#broker.get(filter) !== undefined) return
    const undo = await this.gateway.subscribe(filter, undefined, { qos: 1 })
    if (this.#broker.has(filter) && this.#broker.get(filter) === undefined) this.#broker.set(filter, undo)
    else await undo()
  }

  #emitSafe<E extends EventEmitter.EventNames<SessionEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<SessionEvents, E>
  ): void {
    safeEmit<SessionEvents, E>(this, this.logger, event, ...args)
  }
}
