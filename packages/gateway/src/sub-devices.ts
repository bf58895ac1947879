import {
  type AlinkReply,
  type Connection,
  createLogger,
  type DeviceIdentity,
  identityKey,
  LinkkitError,
  objectRule,
  requireOption,
  safeEmit,
  Topics,
  toLinkkitError,
  topicIdentity,
} from '@linkkit/core'
import { type PostOptions, parseThingModel, type ThingModel } from '@linkkit/thing-model'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { Batcher } from './batcher.js'
import { GatewayRequests, type Registration } from './gateway-requests.js'
import { SubDeviceLimits } from './limits.js'
import { NoticeWatch } from './notice-watch.js'
import { gatewayNoticeRoutes, type NoticeContext, SUB_NOTICE, SubDeviceNotices } from './notices.js'
import { type GatewayPack, packParams } from './pack.js'
import { SubDevice } from './sub-device.js'
import type { SubDeviceHost } from './sub-login.js'
import type { SubDeviceOptions, SubDevicesEvents, SubDevicesOptions } from './types.js'

/**
 * The sub-devices of one gateway (`device.subdevices`, docs/protocol.md §5): opens them, batches
 * their registration, topology adds, logins and logouts, routes the gateway's inbound messages to
 * the sub-device they concern, turns the platform's notices into events, and logs the
 * sub-devices in again (batched) after the gateway reconnects.
 */
export class SubDevices extends EventEmitter<SubDevicesEvents> {
  /** The gateway's connection. */
  readonly gateway: Connection
  /** The sub-device manager's pino logger. */
  readonly logger: Logger
  readonly #requests: GatewayRequests
  readonly #subs = new Map<string, SubDevice>()
  readonly #watch: NoticeWatch
  readonly #register: Batcher<Registration, string>
  readonly #topo: Batcher<SubDevice>
  readonly #login: Batcher<SubDevice>
  readonly #logout: Batcher<SubDevice>
  readonly #notices: SubDeviceNotices
  readonly #cleanups: Array<() => unknown> = []
  readonly #ready: Promise<void>
  readonly #host: SubDeviceHost
  readonly #gatewayModel: () => ThingModel | undefined
  #closing: Promise<void> | undefined

  /** `gatewayModel` returns the model that checks the gateway's own values in a pack post, if any. */
  constructor(
    gateway: Connection,
    options: SubDevicesOptions = {},
    gatewayModel: () => ThingModel | undefined = () => undefined,
  ) {
    super()
    this.gateway = gateway
    this.#gatewayModel = gatewayModel
    this.logger = createLogger(options.logger ?? gateway.logger, 'subdevices')
    this.#requests = new GatewayRequests(gateway, options.now)
    this.#watch = new NoticeWatch(gateway)
    const windowMs = options.batchWindowMs ?? 10
    const creds = (subs: SubDevice[]) => subs.map((sub) => sub.credentials())
    this.#register = new Batcher({
      maxItems: SubDeviceLimits.topoBatch,
      windowMs,
      send: (items) => this.#requests.registerAny(items),
    })
    this.#topo = new Batcher({
      maxItems: SubDeviceLimits.topoBatch,
      windowMs,
      send: (subs) => this.#requests.topoAdd(creds(subs)),
    })
    this.#login = new Batcher({
      maxItems: SubDeviceLimits.sessionBatch,
      windowMs,
      send: (subs) => this.#requests.login(creds(subs)),
    })
    this.#logout = new Batcher({
      maxItems: SubDeviceLimits.sessionBatch,
      windowMs,
      send: (subs) => this.#requests.logout(subs),
    })
    const ctx: NoticeContext = {
      gateway,
      find: (identity) => this.#subs.get(identityKey(identity)),
      emit: (event, ...args) => this.#emit(event, ...args),
      report: (error) => this.#emit('error', error),
    }
    this.#notices = new SubDeviceNotices(ctx)
    this.#host = {
      gateway,
      logger: this.logger,
      register: (sub, productSecret) => this.#register.add({ identity: sub, productSecret }),
      addTopo: (sub) => this.#topo.add(sub),
      login: (sub) => this.#login.add(sub),
      logout: (sub) => this.#logout.add(sub),
      removeTopo: (sub) => this.#requests.topoDelete([sub]),
      watch: (sub) => this.#watch.watch(sub),
      unwatch: (sub) => this.#watch.unwatch(sub),
      forget: (sub) => {
        if (this.#subs.get(identityKey(sub)) === sub) this.#subs.delete(identityKey(sub))
      },
    }
    this.#cleanups.push(gateway.route('#', (topic, payload) => this.#dispatch(topic, payload)))
    const onDisconnected = () => void this.#gatewayLost()
    const onConnected = ({ reconnect }: { reconnect: boolean }) => {
      if (reconnect) void this.#relogin()
    }
    gateway.on('disconnected', onDisconnected)
    gateway.on('connected', onConnected)
    this.#cleanups.push(
      () => gateway.off('disconnected', onDisconnected),
      () => gateway.off('connected', onConnected),
    )
    this.#ready = Promise.all(
      gatewayNoticeRoutes(ctx).map(async ([filter, handler]) =>
        this.#cleanups.push(await gateway.subscribe(filter, handler)),
      ),
    ).then(() => {})
    this.#ready.catch((error: unknown) => this.#emit('error', toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')))
  }

  /** The sub-devices opened on this gateway. */
  get size(): number {
    return this.#subs.size
  }

  /** Every sub-device opened here. */
  list(): SubDevice[] {
    return [...this.#subs.values()]
  }

  /** The sub-device opened here with this identity, if any. */
  get(productKey: string, deviceName: string): SubDevice | undefined {
    return this.#subs.get(identityKey({ productKey, deviceName }))
  }

  /** Creates a sub-device (no I/O); `await subDevice.connect()` brings it online. */
  open(options: SubDeviceOptions): SubDevice {
    if (this.#closing !== undefined) throw new LinkkitError('ERR_CLOSED', 'the gateway was closed')
    requireOption(options, 'options', objectRule)
    const key = identityKey(options)
    if (this.#subs.has(key))
      throw new LinkkitError('ERR_INVALID_ARGUMENT', `sub-device ${key} is already open`)
    const { thingModel } = options
    // A TSL object is checked now (no I/O); a file is read by the sub-device's connect().
    const model =
      thingModel === undefined || typeof thingModel === 'string' || thingModel instanceof URL
        ? thingModel
        : parseThingModel(thingModel)
    const sub = new SubDevice(this.#host, options, model)
    this.#subs.set(key, sub)
    return sub
  }

  /**
   * Connects many sub-devices together (default: every one opened): their registrations, topology
   * adds and logins travel in batches (`combine.batch_login`, at most 50 per message). Resolves
   * once all are online; rejects with the first failure (`details.failed` lists each) after all tried.
   */
  async connectAll(subs: readonly SubDevice[] = this.list()): Promise<SubDevice[]> {
    const results = await Promise.allSettled(subs.map((sub) => sub.connect()))
    const failed = results.flatMap((r, i) =>
      r.status === 'rejected'
        ? [{ sub: subs[i], error: toLinkkitError(r.reason, 'ERR_SUBDEVICE_NOT_LOGGED_IN') }]
        : [],
    )
    const first = failed[0]
    if (first !== undefined) {
      const list = failed.map(({ sub, error }) => ({
        productKey: sub?.productKey,
        deviceName: sub?.deviceName,
        code: error.code,
        replyCode: error.replyCode,
      }))
      throw new LinkkitError(
        first.error.code,
        `${failed.length} of ${subs.length} sub-devices failed to connect: ${first.error.message}`,
        {
          cause: first.error,
          replyCode: first.error.replyCode,
          details: { failed: list },
        },
      )
    }
    return [...subs]
  }

  /** The gateway's topology as the platform holds it (`thing.topo.get`). */
  getTopo(): Promise<DeviceIdentity[]> {
    return this.#requests.topoGet()
  }

  /** Reports sub-devices the gateway discovered (`thing.list.found`). */
  reportFound(subs: readonly DeviceIdentity[]): Promise<void> {
    return this.#requests.listFound([...subs])
  }

  /** `thing.event.property.pack.post` for the gateway and up to 20 sub-devices in one message. */
  postPack(pack: GatewayPack, options: PostOptions = {}): Promise<AlinkReply> {
    let params: ReturnType<typeof packParams>
    try {
      params = packParams(
        pack,
        this.#gatewayModel(),
        (id) => {
          const sub = this.#subs.get(identityKey(id))
          return sub && { online: sub.connected, thingModel: sub.thingModel }
        },
        Date.now(),
      )
    } catch (error) {
      return Promise.reject(error)
    }
    return this.gateway.request(Topics.sys(this.gateway, 'thing/event/property/pack/post'), params, {
      method: 'thing.event.property.pack.post',
      ...options,
    })
  }

  /** Closes every sub-device (their logouts batched). Idempotent; the gateway's connection stays open. */
  close(): Promise<void> {
    this.#closing ??= this.#close()
    return this.#closing
  }

  async #close(): Promise<void> {
    await Promise.allSettled(this.list().map((sub) => sub.close()))
    const closed = new LinkkitError('ERR_CLOSED', 'the gateway was closed')
    for (const batcher of [this.#register, this.#topo, this.#login, this.#logout]) batcher.close(closed)
    await this.#ready.catch(() => {})
    await Promise.allSettled(this.#cleanups.splice(0).map((cleanup) => cleanup()))
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #dispatch(topic: string, payload: Buffer): void {
    const owner = topicIdentity(topic)
    if (owner === undefined) return
    if (owner.productKey === this.gateway.productKey && owner.deviceName === this.gateway.deviceName) return
    if (SUB_NOTICE.test(topic)) this.#notices.handle(owner, topic, payload)
    else this.#subs.get(identityKey(owner))?.connection.deliver(topic, payload)
  }

  /**
   * The gateway's link dropped: every session is gone. Subscriptions are released locally so the
   * connection does not restore them before the platform knows the sub-devices again.
   */
  async #gatewayLost(): Promise<void> {
    await Promise.allSettled([this.#watch.releaseAll(), ...this.list().map((sub) => sub.gatewayLost())])
  }

  /** Logs the sub-devices in again after a reconnect, batched, and restores their subscriptions. */
  async #relogin(): Promise<void> {
    const subs = this.list()
    const again = subs.filter((sub) => sub.wantsOnline && sub.state === 'reconnecting')
    const results = await Promise.allSettled(again.map((sub) => sub.resume()))
    const failed = results.flatMap((r, i) => {
      const sub = again[i]
      return r.status === 'rejected' && sub !== undefined
        ? [
            {
              productKey: sub.productKey,
              deviceName: sub.deviceName,
              error: toLinkkitError(r.reason, 'ERR_SUBDEVICE_NOT_LOGGED_IN'),
            },
          ]
        : []
    })
    await Promise.allSettled(
      subs.filter((sub) => sub.state === 'disabled').map((sub) => this.#watch.watch(sub)),
    )
    this.#emit('relogin', { loggedIn: again.length - failed.length, failed })
  }

  /** A throwing listener must not break the gateway; an unheard `error` still reaches stderr. */
  #emit<E extends EventEmitter.EventNames<SubDevicesEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<SubDevicesEvents, E>
  ): void {
    safeEmit<SubDevicesEvents, E>(this, this.logger, event, ...args)
  }
}
