import {
  type AlinkReply,
  createLogger,
  LinkkitError,
  type Session,
  safeEmit,
  Topics,
  toLinkkitError,
} from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import { ClientContext, type EventArgs, type EventName, type Logger } from './context.js'
import type { DeviceTag, QueryOptions } from './device-info.js'
import * as info from './device-info.js'
import { Downlinks } from './downlinks.js'
import type { DesiredValues, ThingClientEvents } from './events.js'
import { NtpClient, type NtpOptions, type NtpResult } from './ntp.js'
import {
  type ResolvedThingClientOptions,
  resolveThingClientOptions,
  type ThingClientOptions,
} from './options.js'
import { PropertyDownlinks, type PropertyGetHandler, type PropertySetHandler } from './properties.js'
import { type PostRawOptions, RawChannel, type RawHandler } from './raw.js'
import { describeError } from './respond.js'
import { ServiceDownlinks, type ServiceHandler, type ServiceHandlerOptions } from './services.js'
import { loadThingModel, ThingModel } from './tsl/index.js'
import type { BatchPost, HistoryEntry, PostOptions } from './uplink.js'
import * as up from './uplink.js'

/**
 * The Alink thing-model surface of one device on a `Connection`: property posts and sets,
 * events, services (async and both RRPC forms), desired properties, tags, NTP and raw data
 * (docs/protocol.md §2). Uplinks are validated against the thing model before anything is sent;
 * downlinks are validated before a handler sees them and always answered.
 */
export class ThingClient extends EventEmitter<ThingClientEvents> {
  /** The MQTT session it speaks over. */
  readonly connection: Session
  /** The validated options. */
  readonly options: Readonly<ResolvedThingClientOptions>
  readonly #ctx: ClientContext
  readonly #logger: Logger
  readonly #properties: PropertyDownlinks
  readonly #services: ServiceDownlinks
  readonly #raw: RawChannel
  readonly #ntp: NtpClient
  readonly #downlinks: Downlinks
  readonly #unsubscribe: Array<() => Promise<void> | void> = []
  #started: Promise<void> | undefined
  #closing: Promise<void> | undefined

  constructor(connection: Session, options: ThingClientOptions = {}) {
    super()
    this.connection = connection
    this.options = resolveThingClientOptions(options)
    // No child of a silent logger (a fleet opens thousands of devices): see createLogger.
    this.#logger = createLogger(connection.logger, 'thing')
    this.#ctx = new ClientContext(
      connection,
      this.options,
      this.#logger,
      (event, ...args) => this.#emitSafe(event, ...args),
      (error) => this.#report(error),
    )
    const model = this.options.thingModel
    if (model instanceof ThingModel) this.#ctx.thingModel = model
    this.#properties = new PropertyDownlinks(this.#ctx)
    this.#services = new ServiceDownlinks(this.#ctx)
    this.#raw = new RawChannel(this.#ctx)
    this.#ntp = new NtpClient(this.#ctx)
    this.#downlinks = new Downlinks(this.#ctx, {
      properties: this.#properties,
      services: this.#services,
      raw: this.#raw,
      ntp: this.#ntp,
    })
  }

  /** The thing model values are validated against, if any (a file given as `thingModel` is loaded by `start()`). */
  get thingModel(): ThingModel | undefined {
    return this.#ctx.thingModel
  }

  /** The last value of each property posted or accepted from a set (what a property get is answered from). */
  get properties(): Record<string, unknown> {
    return this.#ctx.store.snapshot()
  }

  /**
   * Loads the thing model when `thingModel` named a file (rejecting with `ERR_TSL_INVALID` when it
   * cannot be read or is malformed), then subscribes the downlink and reply topics (kept across
   * reconnects by the connection). Works before or after `connect()`; resolves once the broker
   * acknowledged when connected. Idempotent.
   */
  start(): Promise<void> {
    if (this.#ctx.closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'the thing client was closed'))
    this.#started ??= this.#start().catch((error: unknown) => {
      this.#started = undefined
      throw error
    })
    return this.#started
  }

  async #start(): Promise<void> {
    const source = this.options.thingModel
    if (this.#ctx.thingModel === undefined && source !== undefined && !(source instanceof ThingModel))
      this.#ctx.thingModel = await loadThingModel(source)
    await this.#subscribeAll()
  }

  async #subscribeAll(): Promise<void> {
    const c = this.connection
    const upRawReply = Topics.sys(c, 'thing/model/up_raw_reply')
    // The raw reply is binary: the connection does not route `_reply` topics it cannot parse as
    // Alink, so it is taken from the message stream.
    const onMessage = (topic: string, payload: Buffer) => {
      if (topic === upRawReply && !this.#ctx.closed) this.#raw.onUpReply(payload)
    }
    c.on('message', onMessage)
    const undo: Array<() => Promise<void> | void> = [() => void c.off('message', onMessage)]
    const results = await Promise.allSettled(
      this.#downlinks
        .routes(this.options.rrpc)
        .map(([filter, handler]) => c.subscribe(filter, handler, { qos: 1 })),
    )
    for (const r of results) if (r.status === 'fulfilled') undo.push(r.value)
    const failed = results.find((r) => r.status === 'rejected')
    if (failed) {
      // All or nothing, so a retried start() does not route a topic twice.
      await Promise.allSettled(undo.map((u) => u()))
      throw toLinkkitError(failed.reason, 'ERR_SUBSCRIBE_FAILED')
    }
    this.#unsubscribe.push(...undo)
  }

  /** Sets the property-set handler (replacing any); returns a function removing it. */
  onPropertySet(handler: PropertySetHandler): () => void {
    assertFunction(handler)
    this.#properties.setHandler = handler
    return () => {
      if (this.#properties.setHandler === handler) this.#properties.setHandler = undefined
    }
  }

  /** Sets the property-get handler (replacing any); without one a get is answered from `properties`. */
  onPropertyGet(handler: PropertyGetHandler): () => void {
    assertFunction(handler)
    this.#properties.getHandler = handler
    return () => {
      if (this.#properties.getHandler === handler) this.#properties.getHandler = undefined
    }
  }

  /** Sets the handler of a service, sync or async (replacing any); returns a function removing it. */
  onService(serviceId: string, handler: ServiceHandler, options?: ServiceHandlerOptions): () => void {
    return this.#services.register(serviceId, handler, options)
  }

  /** Sets the `down_raw` handler; the bytes it returns are published on `down_raw_reply`. */
  onRaw(handler: RawHandler): () => void {
    assertFunction(handler)
    this.#raw.handler = handler
    return () => {
      if (this.#raw.handler === handler) this.#raw.handler = undefined
    }
  }

  /** Posts property values (plain or `{ value, time }`); at most 200; checked against the model first. */
  postProperties(props: Record<string, unknown>, options?: PostOptions): Promise<AlinkReply> {
    return up.postProperties(this.#ctx, props, options)
  }

  /** Posts an event; params bare or `{ value, time }`; checked against its `outputData` first. */
  postEvent(eventId: string, params: Record<string, unknown>, options?: PostOptions): Promise<AlinkReply> {
    return up.postEvent(this.#ctx, eventId, params, options)
  }

  /** Posts samples per property and per event in one message (4.x `thing.event.property.batch.post`); each is checked against the model. */
  postBatch(batch: BatchPost, options?: PostOptions): Promise<AlinkReply> {
    return up.postBatch(this.#ctx, batch, options)
  }

  /** Posts past samples (`thing.event.property.history.post`), of this device or, for a gateway, its sub-devices. */
  postHistory(entries: HistoryEntry[], options?: PostOptions): Promise<AlinkReply> {
    return up.postHistory(this.#ctx, entries, options)
  }

  /** Reads desired values (`thing.property.desired.get`); identifiers with none are left out. Also emits `desired`. */
  getDesired(ids: string[], options?: QueryOptions): Promise<DesiredValues> {
    return info.getDesired(this.#ctx, ids, options)
  }

  /** Deletes desired values (`thing.property.desired.delete`); a `version` deletes only while it is current. */
  deleteDesired(versions: Record<string, { version?: number }>, options?: QueryOptions): Promise<void> {
    return info.deleteDesired(this.#ctx, versions, options)
  }

  /** Adds or updates device tags (`thing.deviceinfo.update`); other tags stay. */
  updateTags(tags: DeviceTag[], options?: QueryOptions): Promise<void> {
    return info.updateTags(this.#ctx, tags, options)
  }

  /** Deletes device tags by key (`thing.deviceinfo.delete`). */
  deleteTags(keys: string[], options?: QueryOptions): Promise<void> {
    return info.deleteTags(this.#ctx, keys, options)
  }

  /** Asks the cloud for its time (docs/protocol.md §2.3 "NTP"). QoS 0: rejects ERR_NOT_CONNECTED offline. */
  ntp(options?: NtpOptions): Promise<NtpResult> {
    if (this.#ctx.closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'the thing client was closed'))
    return this.#ntp.request(options)
  }

  /** Publishes bytes on `up_raw`; resolves with the next `up_raw_reply` (raw messages carry no id). */
  postRaw(bytes: Uint8Array, options?: PostRawOptions): Promise<Buffer> {
    if (this.#ctx.closed) return Promise.reject(new LinkkitError('ERR_CLOSED', 'the thing client was closed'))
    return this.#raw.post(bytes, options)
  }

  /** Unsubscribes and rejects waiting raw posts and NTP requests with ERR_CLOSED. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    this.#ctx.closed = true
    const error = new LinkkitError('ERR_CLOSED', 'the thing client was closed')
    this.#raw.rejectAll(error)
    this.#ntp.rejectAll(error)
    await this.#started?.catch(() => {})
    await Promise.allSettled(this.#unsubscribe.splice(0).map((undo) => undo()))
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #emitSafe<K extends EventName>(event: K, ...args: EventArgs<K>): void {
    const thrown = safeEmit<ThingClientEvents, K>(this, this.#logger, event, ...args)
    if (thrown === undefined) return
    this.#emitSafe(
      'error',
      new LinkkitError('ERR_SERVICE', `a '${event}' listener threw: ${describeError(thrown)}`, {
        cause: thrown,
        details: { event },
      }),
    )
  }

  #report(error: LinkkitError): void {
    this.#logger.warn({ code: error.code, topic: error.topic, replyCode: error.replyCode }, error.message)
    this.#emitSafe('error', error)
  }
}

function assertFunction(handler: unknown): void {
  if (typeof handler !== 'function')
    throw new LinkkitError('ERR_INVALID_ARGUMENT', 'handler must be a function')
}
