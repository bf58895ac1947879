import {
  type AlinkReply,
  Connection,
  type ConnectionEvents,
  type ConnectionState,
  type DeviceIdentity,
  isLinkkitError,
  LinkkitError,
  type MessageHandler,
  OfflineQueue,
  type Payload,
  PendingRequests,
  type PublishOptions,
  parseReply,
  payloadBytes,
  peekId,
  type RequestOptions,
  safeEmit,
  sendRequest,
  TopicRouter,
  toLinkkitError,
  WithdrawableQueue,
} from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'

type Phase = 'idle' | 'connecting' | 'online' | 'resuming' | 'closed'

/** What the sub-device needs to hear from its connection. */
export interface SubConnectionHooks {
  /** `connect()` on the connection logs the sub-device in through its SubDevice. */
  connect(): Promise<unknown>
  /** The platform answered 520: it holds no session for the sub-device any more. */
  sessionLost(error: LinkkitError): void
}

const NO_SESSION = 520

/**
 * A sub-device's session carried by its gateway's MQTT connection: a `Connection` whose
 * productKey/deviceName are the sub-device's, so `ThingClient`, `FotaClient` and `OtaSession` work
 * on a sub-device exactly as on a directly connected device (docs/protocol.md §5: once logged in, the
 * sub-device's own topics travel over the gateway's connection).
 *
 * It publishes through the gateway and receives what the gateway's dispatcher hands to
 * `deliver()`, so routing a message costs one map lookup however many sub-devices there are.
 * Broker subscriptions exist only while the sub-device is logged in: they are made at login and
 * dropped at logout and when the gateway's link drops, and made again after the re-login (the
 * platform refuses a sub-device's topics before its session exists). Requests and QoS 1 publishes
 * made while logging in or logging in again wait in this connection's own offline queue.
 *
 * The options given to `Connection` carry the sub-device's identity only; it never signs a CONNECT.
 */
export class SubDeviceConnection extends Connection {
  /** The gateway's connection, which carries this sub-device. */
  readonly gateway: Connection
  readonly #hooks: SubConnectionHooks
  readonly #identity: DeviceIdentity
  readonly #router: TopicRouter
  readonly #pending = new PendingRequests()
  readonly #queue: WithdrawableQueue
  /** Broker filters wanted while online, each with its undo once subscribed on the gateway. */
  readonly #broker = new Map<string, (() => Promise<void>) | undefined>()
  #phase: Phase = 'idle'

  constructor(gateway: Connection, identity: DeviceIdentity, hooks: SubConnectionHooks) {
    const o = gateway.options
    super({
      productKey: identity.productKey,
      deviceName: identity.deviceName,
      deviceSecret: 'carried-by-gateway',
      brokerUrl: o.brokerUrl,
      requestTimeoutMs: o.requestTimeoutMs,
      alinkQos: o.alinkQos,
      offlineQueue: o.offlineQueue,
      reconnect: false,
      logger: gateway.logger,
    })
    this.gateway = gateway
    this.#hooks = hooks
    this.#identity = { productKey: identity.productKey, deviceName: identity.deviceName }
    this.#queue = new WithdrawableQueue(new OfflineQueue(o.offlineQueue))
    this.#router = new TopicRouter((error, topic) =>
      this.#emitSafe('error', toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD', `failed to handle ${topic}`)),
    )
  }

  override get state(): ConnectionState {
    switch (this.#phase) {
      case 'online':
        return this.gateway.connected ? 'connected' : 'reconnecting'
      case 'resuming':
        return 'reconnecting'
      default:
        return this.#phase
    }
  }

  override get connected(): boolean {
    return this.#phase === 'online' && this.gateway.connected
  }

  override get queuedCount(): number {
    return this.#queue.size
  }

  override get queuedBytes(): number {
    return this.#queue.bytes
  }

  /** Logs the sub-device in through its SubDevice (same as `subDevice.connect()`). */
  override connect(): Promise<this> {
    return this.#hooks.connect().then(() => this)
  }

  override async subscribe(
    filter: string,
    handler?: MessageHandler,
    _options?: PublishOptions,
  ): Promise<() => Promise<void>> {
    const unroute = handler ? this.#router.add(filter, handler) : () => {}
    await this.#want(this.#brokerFilter(filter))
    return async () => unroute()
  }

  override route(filter: string, handler: MessageHandler): () => void {
    return this.#router.add(filter, handler)
  }

  override publish(topic: string, payload: Payload, options: PublishOptions = {}): Promise<void> {
    const qos = options.qos ?? 1
    const queueOffline = options.queueOffline ?? qos === 1
    if (this.#phase === 'online') return this.gateway.publish(topic, payload, { ...options, qos })
    const { signal } = options
    if (signal?.aborted)
      return Promise.reject(
        new LinkkitError('ERR_ABORTED', 'publish aborted', { topic, cause: signal.reason }),
      )
    if ((this.#phase === 'connecting' || this.#phase === 'resuming') && queueOffline) {
      return new Promise<void>((resolve, reject) => {
        const entry = { topic, payload: payloadBytes(payload), qos, resolve, reject } as const
        const overflowed = this.#queue.push(entry, signal)
        if (overflowed && overflowed !== entry)
          this.#emitSafe('error', new LinkkitError('ERR_OFFLINE_QUEUE_FULL', undefined, { topic }))
      })
    }
    return Promise.reject(this.#notOnline(topic))
  }

  override async request<D = unknown>(
    topic: string,
    params: unknown,
    options: RequestOptions = {},
  ): Promise<AlinkReply<D>> {
    try {
      return await sendRequest<D>(
        {
          nextId: () => this.nextId(),
          publish: (t, payload, o) => this.publish(t, payload, o),
          ensureReplyRoute: (replyTopic) => this.#want(this.#brokerFilter(replyTopic)),
          pending: this.#pending,
          defaultTimeoutMs: this.options.requestTimeoutMs,
          defaultQos: this.options.alinkQos,
          isConnected: () => this.connected,
        },
        topic,
        params,
        options,
      )
    } catch (error) {
      throw this.#noSession(error)
    }
  }

  /** A message the gateway received on one of this sub-device's topics. */
  deliver(topic: string, payload: Buffer): void {
    if (this.#phase === 'closed') return
    this.#emitSafe('message', topic, payload)
    if (topic.endsWith('_reply') && this.#pending.waitsOn(topic)) {
      try {
        if (this.#pending.settle(topic, parseReply(payload, topic))) return
      } catch (error) {
        const err = toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD')
        const id = peekId(payload)
        if (id === undefined || !this.#pending.failReply(topic, id, err)) this.#emitSafe('error', err)
        return
      }
    }
    this.#router.dispatch(topic, payload)
  }

  /** The login started: requests and QoS 1 publishes wait for it. */
  connecting(): void {
    if (this.#phase === 'idle') this.#phase = 'connecting'
  }

  /**
   * The sub-device is logged in: subscribes its topics on the gateway, sends what waited, and
   * emits `connected` (the FOTA client informs its versions on it).
   */
  async online(reconnect: boolean): Promise<void> {
    if (this.#phase === 'closed') throw new LinkkitError('ERR_CLOSED', 'the sub-device was closed')
    await Promise.all([...this.#broker.keys()].map((filter) => this.#subscribeBroker(filter)))
    this.#phase = 'online'
    for (const entry of this.#queue.drain()) {
      this.gateway
        .publish(entry.topic, entry.payload, { qos: entry.qos, queueOffline: true })
        .then(entry.resolve, (error: unknown) => entry.reject(toLinkkitError(error, 'ERR_PUBLISH_FAILED')))
    }
    this.#emitSafe('connected', { sessionPresent: false, reconnect })
  }

  /**
   * The session ended. With `resume` (the gateway's link dropped, a re-login follows) queued
   * publishes and pending requests are kept; otherwise they reject with `error`. Broker
   * subscriptions are released (only locally when the gateway is offline).
   */
  async offline(resume: boolean, error?: LinkkitError): Promise<void> {
    if (this.#phase === 'closed') return
    const was = this.#phase
    this.#phase = resume ? 'resuming' : 'idle'
    if (!resume) {
      const reason = error ?? new LinkkitError('ERR_SUBDEVICE_NOT_LOGGED_IN', 'the sub-device logged out')
      this.#queue.rejectAll(reason)
      this.#pending.rejectAll(reason)
    }
    const undos = [...this.#broker.entries()].flatMap(([filter, undo]) => {
      this.#broker.set(filter, undefined)
      return undo ? [undo] : []
    })
    await Promise.allSettled(undos.map((undo) => undo()))
    if (was === 'online') this.#emitSafe('disconnected', error ? { error } : {})
  }

  /** Rejects what waits with ERR_CLOSED and releases the broker subscriptions. Idempotent. */
  override async close(): Promise<void> {
    if (this.#phase !== 'closed') {
      const error = new LinkkitError('ERR_CLOSED', 'the sub-device was closed')
      await this.offline(false, error)
      this.#phase = 'closed'
    }
    await super.close()
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
    if (!isLinkkitError(error, 'ERR_REPLY') || error.replyCode !== NO_SESSION) return error
    const lost = new LinkkitError(
      'ERR_SUBDEVICE_NOT_LOGGED_IN',
      'the platform holds no session for the sub-device',
      {
        cause: error,
        replyCode: NO_SESSION,
        topic: error.topic,
      },
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

  #emitSafe<E extends EventEmitter.EventNames<ConnectionEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<ConnectionEvents, E>
  ): void {
    safeEmit<ConnectionEvents, E>(this, this.logger, event, ...args)
  }
}
