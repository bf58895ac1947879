import { forwardErrors, LinkkitError, safeEmit, toLinkkitError } from '@linkkit/core'
import { FotaClient } from '@linkkit/fota'
import { ThingClient, type ThingClientOptions, type ThingModel, ThingSurface } from '@linkkit/thing-model'
import type { EventEmitter } from 'eventemitter3'
import type { SubDeviceCredentials } from './gateway-requests.js'
import { loginAgain, logoutOnce, type SubDeviceHost, subDeviceCredentials } from './sub-login.js'
import { SubDeviceSession } from './sub-session.js'
import type {
  OfflineReason,
  SubDeviceEvents,
  SubDeviceNotice,
  SubDeviceOptions,
  SubDeviceState,
} from './types.js'

/**
 * A sub-device behind a gateway (IOT_Linkkit_Open with IOTX_LINKKIT_DEV_TYPE_SLAVE): the same
 * thing-model and OTA surface as a `Device`, carried by the gateway's MQTT connection. Create it
 * with `gateway.subdevices.open(options)`, then `await subDevice.connect()`.
 */
export class SubDevice extends ThingSurface<SubDeviceEvents> {
  /** The sub-device's session over the gateway (for `new OtaSession(subDevice.connection)`). */
  readonly connection: SubDeviceSession
  /** Thing model: properties, events, services, desired properties, tags, NTP, raw data. */
  readonly thing: ThingClient
  /** OTA of the sub-device: its own offers, downloads, persistence and progress topics. */
  readonly fota: FotaClient
  readonly #host: SubDeviceHost
  readonly #options: Readonly<SubDeviceOptions>
  #secret: string | undefined
  #state: SubDeviceState = 'idle'
  #wantOnline = false
  #connecting: Promise<this> | undefined
  #resuming: Promise<void> | undefined
  #closing: Promise<void> | undefined

  /** @internal Created by `SubDevices.open()`. */
  constructor(host: SubDeviceHost, options: SubDeviceOptions, thingModel: ThingClientOptions['thingModel']) {
    super()
    this.#host = host
    this.#options = Object.freeze({ ...options })
    this.#secret = options.deviceSecret
    this.connection = new SubDeviceSession(host.gateway, options, {
      sessionLost: (error) => this.#sessionLost(error),
    })
    this.thing = new ThingClient(this.connection, thingModel ? { thingModel } : {})
    this.fota = new FotaClient(this.connection, options.firmware ?? {})
    const forward = <
      E extends
        | 'fota'
        | 'fota:progress'
        | 'fota:deferred'
        | 'fota:rollback'
        | 'property:set'
        | 'service'
        | 'config',
    >(
      event: E,
    ) =>
      ((...args: EventEmitter.EventArgs<SubDeviceEvents, E>) =>
        this.#emit(event, ...args)) as SubDeviceEvents[E]
    // A child's error a listener of the child heard is not reported as unheard on the sub-device.
    forwardErrors(this.connection, this, host.logger)
    this.connection.on('message', (topic, payload) => this.#emit('message', topic, payload))
    this.thing.on('property:set', forward('property:set'))
    this.thing.on('service', forward('service'))
    forwardErrors(this.thing, this, host.logger)
    this.fota.on('fota', forward('fota'))
    this.fota.on('fota:progress', forward('fota:progress'))
    this.fota.on('fota:deferred', forward('fota:deferred'))
    this.fota.on('fota:rollback', forward('fota:rollback'))
    this.fota.on('config', forward('config'))
    forwardErrors(this.fota, this, host.logger)
  }

  /** The sub-device's product key. */
  get productKey(): string {
    return this.#options.productKey
  }

  /** The sub-device's name. */
  get deviceName(): string {
    return this.#options.deviceName
  }

  /** The compiled thing model, when `thingModel` was given (a file is read by `connect()`). */
  get thingModel(): ThingModel | undefined {
    return this.thing.thingModel
  }

  /** Where the sub-device is (see `SubDeviceState`). */
  get state(): SubDeviceState {
    return this.#state
  }

  /** Logged in and the gateway connected. */
  get connected(): boolean {
    return this.#state === 'online' && this.connection.connected
  }

  /** @internal Whether it should be logged in again after the gateway reconnects. */
  get wantsOnline(): boolean {
    return this.#wantOnline && this.#state !== 'closed'
  }

  /** @internal What topology add and login are signed with. */
  credentials(): SubDeviceCredentials {
    return subDeviceCredentials(this.#options, this.#secret)
  }

  /**
   * Registers the sub-device when it has no secret, adds it to the gateway's topology, logs it in
   * (batched with others connecting at the same time) and subscribes its topics (IOT_Linkkit_Connect).
   */
  connect(): Promise<this> {
    if (this.#closing !== undefined)
      return Promise.reject(new LinkkitError('ERR_CLOSED', 'the sub-device was closed'))
    if (this.#state === 'online') return Promise.resolve(this)
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #connect(): Promise<this> {
    this.#wantOnline = true
    this.#state = 'connecting'
    this.connection.connecting()
    let loggedIn = false
    try {
      await this.thing.start()
      await this.fota.start()
      if (this.#secret === undefined) {
        const deviceSecret = await this.#host.register(this, this.#options.productSecret)
        this.#secret = deviceSecret
        this.#emit('registered', { productKey: this.productKey, deviceName: this.deviceName, deviceSecret })
      }
      await this.#host.addTopo(this)
      await this.#host.login(this)
      loggedIn = true
      await this.#online(false)
      return this
    } catch (error) {
      this.#wantOnline = false
      // Logged in but its topics could not be subscribed: do not leave the session behind.
      if (loggedIn) await this.#host.logout(this).catch(() => {})
      const err = toLinkkitError(error, 'ERR_SUBDEVICE_NOT_LOGGED_IN')
      await this.connection.offline(false, err)
      if (this.#state === 'connecting') this.#state = 'idle'
      throw err
    }
  }

  async #online(reconnect: boolean): Promise<void> {
    await this.connection.online(reconnect)
    this.#state = 'online'
    this.#emit('connected', { reconnect })
  }

  /** @internal The gateway's link dropped: the session is gone until the re-login. */
  async gatewayLost(): Promise<void> {
    if (this.#state !== 'online') return
    this.#state = 'reconnecting'
    await this.connection.offline(true)
    this.#emit('disconnected', { reason: 'gateway' })
  }

  /**
   * @internal Logs in again (after the gateway reconnected or the platform lost the session); a
   * failure leaves it `idle` and is also emitted as `error`.
   */
  resume(): Promise<void> {
    this.#resuming ??= this.#resume().finally(() => {
      this.#resuming = undefined
    })
    return this.#resuming
  }

  async #resume(): Promise<void> {
    if (
      !this.wantsOnline ||
      this.#state === 'disabled' ||
      this.#state === 'deleted' ||
      this.#state === 'online'
    )
      return
    this.#state = 'reconnecting'
    this.connection.connecting()
    try {
      await loginAgain(this.#host, this)
      await this.#online(true)
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_SUBDEVICE_NOT_LOGGED_IN')
      await this.connection.offline(false, err)
      if (this.#state === 'reconnecting') this.#state = 'idle'
      this.#emit('error', err)
      throw err
    }
  }

  #sessionLost(error: LinkkitError): void {
    if (this.#state !== 'online') return
    this.#state = 'reconnecting'
    this.#emit('disconnected', { reason: 'session-lost', error })
    // A failed re-login is reported as an `error` by resume().
    this.connection
      .offline(true)
      .then(() => this.resume())
      .catch(() => {})
  }

  /** @internal The platform disabled, enabled or deleted the sub-device, or dropped it from the topology. */
  async notice(notice: SubDeviceNotice | 'topology'): Promise<void> {
    if (this.#state === 'closed') return
    if (notice === 'enable') {
      if (this.#state !== 'disabled') return
      this.#state = 'idle'
      await this.#host.unwatch(this)
      this.#emit('enabled')
      if (this.#wantOnline) await this.resume().catch(() => {})
      return
    }
    if (notice !== 'disable') {
      this.#wantOnline = false
      await this.#host.unwatch(this)
    }
    const reason: OfflineReason =
      notice === 'disable' ? 'disabled' : notice === 'delete' ? 'deleted' : 'topology'
    const error = new LinkkitError('ERR_SUBDEVICE_NOT_LOGGED_IN', `the platform ended the session: ${reason}`)
    const wasOnline = this.#state === 'online' || this.#state === 'reconnecting'
    await this.connection.offline(false, error)
    this.#state = notice === 'disable' ? 'disabled' : notice === 'delete' ? 'deleted' : 'idle'
    if (notice === 'disable') await this.#host.watch(this)
    if (notice === 'disable') this.#emit('disabled')
    if (notice === 'delete') this.#emit('deleted')
    if (wasOnline) this.#emit('disconnected', { reason, error })
  }

  /** Logs the sub-device out (`combine.logout`); `connect()` logs it in again. */
  async logout(): Promise<void> {
    this.#wantOnline = false
    const was = this.#state
    if (was !== 'online' && was !== 'reconnecting') return
    this.#state = 'idle'
    const failure =
      was === 'online' && this.#host.gateway.connected ? await logoutOnce(this.#host, this) : undefined
    await this.connection.offline(false)
    this.#emit('disconnected', { reason: 'logout' })
    if (failure !== undefined) throw failure
  }

  /** Logs out and removes the sub-device from the gateway's topology (`thing.topo.delete`). */
  async removeTopo(): Promise<void> {
    await this.logout()
    await this.#host.removeTopo(this)
    await this.#host.unwatch(this)
  }

  /** Logs out, then closes OTA, thing model and session, children first (IOT_Linkkit_Close). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const steps: Array<() => Promise<void> | undefined> = [
      () => this.logout(),
      () => this.#host.unwatch(this),
      () => this.fota.close(),
      () => this.thing.close(),
      () => this.connection.close(),
    ]
    for (const step of steps) {
      try {
        await step()
      } catch (error) {
        this.#host.logger.warn(
          { code: toLinkkitError(error, 'ERR_CLOSED').code },
          'error while closing a sub-device',
        )
      }
    }
    this.#state = 'closed'
    this.#host.forget(this)
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  /** A throwing listener must not break the session; an unheard `error` still reaches stderr. */
  #emit<E extends EventEmitter.EventNames<SubDeviceEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<SubDeviceEvents, E>
  ): void {
    safeEmit<SubDeviceEvents, E>(this, this.#host.logger, event, ...args)
  }
}
