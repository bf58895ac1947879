import {
  Connection,
  createLogger,
  forwardErrors,
  LinkkitError,
  type RegisteredDevice,
  registerDevice,
  safeEmit,
  toLinkkitError,
} from '@linkkit/core'
import { FotaClient } from '@linkkit/fota'
import { SubDevices } from '@linkkit/gateway'
import {
  parseThingModel,
  ThingClient,
  type ThingClientOptions,
  ThingModel,
  ThingSurface,
} from '@linkkit/thing-model'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { DeviceEvents } from './events.js'
import { assertOpenOptions, type LinkkitOptions } from './options.js'

/**
 * One device (IOT_Linkkit_Open): its MQTT connection, thing model and OTA. Create it with
 * `linkkit.open(options)`, then `await device.connect()`.
 */
export class Device extends ThingSurface<DeviceEvents> {
  /** The device's pino logger (silent unless `logger` was given). */
  readonly logger: Logger
  readonly #options: LinkkitOptions
  /** A TSL object compiled at open(); a file is read by the thing client at connect(). */
  readonly #thingModel: ThingClientOptions['thingModel']
  #connection: Connection | undefined
  #thing: ThingClient | undefined
  #fota: FotaClient | undefined
  #subdevices: SubDevices | undefined
  #deviceSecret: string | undefined
  #connecting: Promise<this> | undefined
  #closing: Promise<void> | undefined

  constructor(options: LinkkitOptions) {
    super()
    assertOpenOptions(options)
    this.#options = { ...options }
    this.logger = createLogger(options.logger, 'device')
    this.#thingModel = compileObject(options.thingModel)
    this.#deviceSecret = options.deviceSecret
    if (this.#deviceSecret !== undefined) this.#build(this.#deviceSecret)
  }

  /** The device's product key. */
  get productKey(): string {
    return this.#options.productKey
  }

  /** The device's name. */
  get deviceName(): string {
    return this.#options.deviceName
  }

  /** The MQTT session (for the basic OTA API: `new OtaSession(device.connection)`). */
  get connection(): Connection {
    return this.#need(this.#connection)
  }

  /**
   * The rest of the thing model: desired properties, tags, raw data, batch and history posts, the
   * compiled model. The everyday calls (`postProperties`, `postEvent`, `onService`,
   * `onPropertySet`, `onPropertyGet`, `ntp`) are on the device itself; use them there. Its events
   * (`property:set`, `service`, `error`) reach the device's listeners: listen on the device.
   */
  get thing(): ThingClient {
    return this.#need(this.#thing)
  }

  /**
   * The advanced OTA API: `download`, `request`, `reportVersion`, `reportProgress`, config. Its
   * events (`fota`, `fota:progress`, `config`, `error`) reach the device's listeners: listen on the device.
   */
  get fota(): FotaClient {
    return this.#need(this.#fota)
  }

  /**
   * This device as a gateway: its sub-devices, topology and pack posts (docs/protocol.md §5). Touch it
   * before `connect()` (e.g. to add listeners) so the platform's notices to the gateway are
   * subscribed by the time `connect()` resolves.
   */
  get subdevices(): SubDevices {
    this.#subdevices ??= new SubDevices(
      this.connection,
      { logger: this.#options.logger },
      () => this.thingModel,
    )
    return this.#subdevices
  }

  /**
   * The compiled thing model, when `thingModel` was given: at once for a TSL object or a
   * `ThingModel`, once `connect()` has read it for a file.
   */
  get thingModel(): ThingModel | undefined {
    if (this.#thingModel instanceof ThingModel) return this.#thingModel
    return this.#thing?.thingModel
  }

  /** True while the MQTT session is up. */
  get connected(): boolean {
    return this.#connection?.connected === true
  }

  #need<T>(value: T | undefined): T {
    if (value === undefined) {
      throw new LinkkitError('ERR_NOT_CONNECTED', 'the device registers at connect(); call connect() first')
    }
    return value
  }

  #build(deviceSecret: string): void {
    const o = this.#options
    const extensions = { ...(o.extRrpc === false ? {} : { ext: '1' }), ...o.clientIdExtensions }
    const connection = new Connection({
      ...o,
      deviceSecret,
      clientIdExtensions: extensions,
      logger: o.logger ?? 'silent',
    })
    const thing = new ThingClient(connection, this.#thingModel ? { thingModel: this.#thingModel } : {})
    const fota = new FotaClient(connection, o.firmware ?? {})
    // Shared methods with the device as their context, not closures: a fleet opens thousands.
    connection.on('connected', this.#onConnected, this)
    connection.on('disconnected', this.#onDisconnected, this)
    connection.on('reconnecting', this.#onReconnecting, this)
    // A child's error a listener of the child heard is not reported as unheard on the device.
    forwardErrors(connection, this, this.logger)
    connection.on('message', this.#onMessage, this)
    thing.on('property:set', this.#onPropertySet, this)
    thing.on('service', this.#onService, this)
    forwardErrors(thing, this, this.logger)
    fota.on('fota', this.#onFota, this)
    fota.on('fota:progress', this.#onFotaProgress, this)
    fota.on('fota:deferred', this.#onFotaDeferred, this)
    fota.on('fota:rollback', this.#onFotaRollback, this)
    fota.on('config', this.#onConfig, this)
    forwardErrors(fota, this, this.logger)
    this.#connection = connection
    this.#thing = thing
    this.#fota = fota
  }

  #onConnected(info: Parameters<DeviceEvents['connected']>[0]): void {
    this.#safeEmit('connected', info)
  }

  #onDisconnected(info: Parameters<DeviceEvents['disconnected']>[0]): void {
    this.#safeEmit('disconnected', info)
  }

  #onReconnecting(info: Parameters<DeviceEvents['reconnecting']>[0]): void {
    this.#safeEmit('reconnecting', info)
  }

  #onMessage(topic: string, payload: Buffer): void {
    // Every inbound message passes here: skip the forwarding when nobody listens.
    if (this.listenerCount('message') > 0) this.#safeEmit('message', topic, payload)
  }

  #onPropertySet(event: Parameters<DeviceEvents['property:set']>[0]): void {
    this.#safeEmit('property:set', event)
  }

  #onService(event: Parameters<DeviceEvents['service']>[0]): void {
    this.#safeEmit('service', event)
  }

  #onFota(offer: Parameters<DeviceEvents['fota']>[0]): void {
    this.#safeEmit('fota', offer)
  }

  #onFotaProgress(progress: Parameters<DeviceEvents['fota:progress']>[0]): void {
    this.#safeEmit('fota:progress', progress)
  }

  #onFotaDeferred(deferral: Parameters<DeviceEvents['fota:deferred']>[0]): void {
    this.#safeEmit('fota:deferred', deferral)
  }

  #onFotaRollback(rollback: Parameters<DeviceEvents['fota:rollback']>[0]): void {
    this.#safeEmit('fota:rollback', rollback)
  }

  #onConfig(offer: Parameters<DeviceEvents['config']>[0]): void {
    this.#safeEmit('config', offer)
  }

  /** A throwing listener must not break the session; an unheard `error` still reaches stderr. */
  #safeEmit<E extends EventEmitter.EventNames<DeviceEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<DeviceEvents, E>
  ): void {
    safeEmit<DeviceEvents, E>(this, this.logger, event, ...args)
  }

  /**
   * Obtains the device secret with the product secret (dynamic registration) and emits `registered`.
   * Store the secret: the platform may refuse a second registration once the device is active.
   */
  async register(): Promise<RegisteredDevice> {
    const o = this.#options
    if (typeof o.productSecret !== 'string') {
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'dynamic registration needs productSecret')
    }
    const registered = await registerDevice({
      productKey: o.productKey,
      deviceName: o.deviceName,
      productSecret: o.productSecret,
      ...(o.region ? { region: o.region } : {}),
      ...(o.brokerUrl ? { brokerUrl: o.brokerUrl } : {}),
      ...o.register,
      ...(o.logger ? { logger: o.logger } : {}),
    })
    this.#safeEmit('registered', registered)
    return registered
  }

  /** Connects (registering first when needed) and resolves once subscribed (IOT_Linkkit_Connect). */
  connect(): Promise<this> {
    if (this.#closing !== undefined)
      return Promise.reject(new LinkkitError('ERR_CLOSED', 'device was closed'))
    this.#connecting ??= this.#connect().finally(() => {
      this.#connecting = undefined
    })
    return this.#connecting
  }

  async #connect(): Promise<this> {
    if (this.#deviceSecret === undefined) {
      const { deviceSecret } = await this.register()
      // close() may have come while registering (got loads lazily): nothing is built after it.
      if (this.#closing !== undefined) throw new LinkkitError('ERR_CLOSED', 'device was closed')
      this.#deviceSecret = deviceSecret
      this.#build(deviceSecret)
    }
    await this.thing.start()
    await this.fota.start()
    await this.connection.connect()
    return this
  }

  /** Closes OTA, thing model and connection, children first (IOT_Linkkit_Close). Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    const steps: Array<() => Promise<void> | undefined> = [
      () => this.#subdevices?.close(),
      () => this.#fota?.close(),
      () => this.#thing?.close(),
      () => this.#connection?.close(),
    ]
    for (const step of steps) {
      try {
        await step()
      } catch (error) {
        this.logger.warn({ code: toLinkkitError(error, 'ERR_CLOSED').code }, 'error while closing')
      }
    }
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** A TSL object is checked at open() (no I/O); a path or URL is left for connect() to read. */
function compileObject(source: LinkkitOptions['thingModel']): ThingClientOptions['thingModel'] {
  if (source === undefined || typeof source === 'string' || source instanceof URL) return source
  return parseThingModel(source)
}
