import { LinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import type { TopicAcl } from '../acl.js'
import type { HttpRouter } from '../http-router.js'
import type { DeviceRegistry } from '../registry.js'
import type { StateStore } from '../state/store.js'
import type { DeviceIdentity, EmulatorPublishOptions, UplinkContext, UplinkHandler } from '../types.js'
import { ConfigFiles } from './config-files.js'
import {
  configGet,
  desiredDelete,
  desiredGet,
  dslTemplateGet,
  tagsDelete,
  tagsUpdate,
} from './device-info.js'
import { Downlinks } from './downlinks.js'
import { AlinkCodes, type Answer, fail, isRecord, parseUplink, replyPayload } from './envelope.js'
import { answerNtp } from './ntp.js'
import { batchPost, eventPost, historyPost, propertyPost } from './posts.js'
import { RawChannel } from './raw.js'
import { ReplyWaiters } from './reply-waiters.js'
import { ThingJournal } from './thing-journal.js'
import { ThingModels } from './thing-models.js'
import { thingState } from './thing-state.js'
import type {
  AlinkInvalidInfo,
  ConfigPushOptions,
  ConfigPushSent,
  DeviceReply,
  DeviceThingState,
} from './types.js'
import type { ThingDevice, UplinkHandlerFn, UplinkRequest } from './uplink-request.js'

export interface AlinkServiceDeps {
  registry: DeviceRegistry
  acl: TopicAcl
  http: HttpRouter
  logger: Logger
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
  onUplink(filter: string, handler: UplinkHandler): () => void
  /** What configuration file URLs start with (the emulator's `firmwareBaseUrl`), known once it listens. */
  fileBaseUrl(): string
  onInvalid(info: AlinkInvalidInfo): void
  /** @default 5000 */
  requestTimeoutMs?: number
  /** @default Date.now */
  now?: () => number
  /** Where thing state and models are shared with the other nodes (scale-out). @default this process only */
  store?: StateStore
}

/** Handlers of the Alink requests a device sends, by the topic after `/sys/${pk}/${dn}/`. */
const ROUTES: Readonly<Record<string, UplinkHandlerFn>> = {
  'thing/event/property/post': propertyPost,
  'thing/event/property/batch/post': batchPost,
  'thing/event/property/history/post': historyPost,
  'thing/property/desired/get': desiredGet,
  'thing/property/desired/delete': desiredDelete,
  'thing/deviceinfo/update': tagsUpdate,
  'thing/deviceinfo/delete': tagsDelete,
  'thing/config/get': configGet,
  'thing/dsltemplate/get': dslTemplateGet,
}

function route(rest: string): UplinkHandlerFn | undefined {
  if (Object.hasOwn(ROUTES, rest)) return ROUTES[rest]
  const event = /^thing\/event\/([^/]+)\/post$/.exec(rest)?.[1]
  return event === undefined ? undefined : (req) => eventPost(req, event)
}

/**
 * The platform's thing-model side: answers property, event, batch and history posts, desired
 * properties, tags, config, TSL download, NTP and raw uplinks the way the platform does, keeps
 * what devices report in their registry records, and sends property sets, service calls (async
 * and RRPC), config pushes, raw downlinks and error notices. A malformed uplink gets the error
 * reply its id allows and is logged; nothing a device sends can throw out of a handler.
 */
export class AlinkService {
  readonly models: ThingModels
  readonly configs: ConfigFiles
  readonly downlinks: Downlinks
  readonly raw: RawChannel
  readonly #d: AlinkServiceDeps
  readonly #waiters = new ReplyWaiters()
  readonly #journal: ThingJournal
  readonly #logger: Logger
  readonly #now: () => number
  readonly #off: Array<() => void>

  constructor(deps: AlinkServiceDeps) {
    this.#d = deps
    this.#logger = deps.logger.child({ component: 'alink' })
    this.#now = deps.now ?? Date.now
    this.models = new ThingModels(this.#logger, deps.store)
    this.configs = new ConfigFiles(deps.http, deps.fileBaseUrl, deps.store)
    this.#journal = new ThingJournal(deps.store, (key) => {
      const at = key.indexOf('/')
      return this.device({ productKey: key.slice(0, at), deviceName: key.slice(at + 1) })
    })
    this.raw = new RawChannel(deps.publish, this.#logger, this.#journal)
    this.downlinks = new Downlinks({
      registry: deps.registry,
      waiters: this.#waiters,
      model: (productKey) => this.models.get(productKey),
      publish: deps.publish,
      defaultTimeoutMs: deps.requestTimeoutMs ?? 5000,
    })
    this.#off = [
      deps.onUplink('/sys/+/+/#', (ctx) => this.#onSys(ctx)),
      // `#`, not `+`: the built-ins answer on `thing/service/property/{set,get}`, two levels deep.
      deps.onUplink('/ext/rrpc/+/sys/+/+/thing/service/#', (ctx) => this.#onReply(ctx)),
      deps.onUplink('/ext/ntp/+/+/request', (ctx) => answerNtp(ctx, this.#now, deps.publish, this.#logger)),
    ]
  }

  /** The thing-model state of a known device, created on first use. */
  device(identity: DeviceIdentity): DeviceThingState | undefined {
    const state = this.#d.registry.get(identity.productKey, identity.deviceName)
    return state === undefined ? undefined : thingState(state)
  }

  /**
   * Stores desired values (docs/protocol.md §2.3 "Desired properties"), each with a version one above
   * the previous; the device reads them with `thing.property.desired.get`. Checked against the
   * writable properties of the product's TSL. Returns the stored entries.
   */
  async setDesired(
    identity: DeviceIdentity,
    props: Record<string, unknown>,
  ): Promise<DeviceThingState['desired']> {
    if (!isRecord(props) || Object.keys(props).length === 0) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'desired properties must be a non-empty object')
    }
    const state = this.device(identity)
    if (state === undefined) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `unknown device ${identity.productKey}/${identity.deviceName}`,
      )
    }
    ;(await this.models.get(identity.productKey))?.assertSettable(props)
    const time = this.#now()
    const stored: DeviceThingState['desired'] = {}
    for (const [id, value] of Object.entries(props)) {
      const entry = { value: structuredClone(value), version: (state.desired[id]?.version ?? 0) + 1, time }
      state.desired[id] = entry
      stored[id] = { ...entry }
    }
    this.#journal.changed(identity, state, 'desired')
    return stored
  }

  /** `thing.config.push` of the product's configuration (`setConfig` first). */
  pushConfig(identity: DeviceIdentity, options?: ConfigPushOptions): Promise<DeviceReply | ConfigPushSent> {
    const offer = this.configs.offer(identity.productKey)
    if (offer === undefined) {
      return Promise.reject(
        new LinkkitError('ERR_INVALID_ARGUMENT', `product ${identity.productKey} has no configuration`),
      )
    }
    return this.downlinks.pushConfig(identity, offer, options)
  }

  /** Settles a request of this node that a device answered on another node (scale-out). */
  settleRemote(topic: string, payload: Buffer): boolean {
    return this.#waiters.settle(topic, payload)
  }

  /** Stops handling uplinks and rejects pending requests with ERR_CLOSED. */
  async close(): Promise<void> {
    for (const off of this.#off.splice(0)) off()
    this.#waiters.rejectAll(new LinkkitError('ERR_CLOSED', 'the emulator closed'))
    await this.configs.close()
  }

  #onReply(ctx: UplinkContext): void {
    if (!this.#waiters.settle(ctx.topic, ctx.payload)) {
      this.#logger.debug({ topic: ctx.topic }, 'reply with no pending request (late or unknown id)')
    }
  }

  async #onSys(ctx: UplinkContext): Promise<void> {
    if (this.#waiters.settle(ctx.topic, ctx.payload)) return
    const [, , productKey = '', deviceName = '', ...tail] = ctx.topic.split('/')
    const identity = { productKey, deviceName }
    const rest = tail.join('/')
    if (rest === 'thing/model/up_raw') {
      const state = this.device(identity)
      if (state !== undefined) await this.raw.onUp(ctx, identity, state, this.#now())
      return
    }
    const handler = route(rest)
    if (handler === undefined) {
      if (rest.endsWith('_reply') || rest.startsWith('rrpc/response/')) this.#onReply(ctx)
      return
    }
    const method = rest.replaceAll('/', '.')
    const uplink = parseUplink(ctx.payload)
    if (!uplink.ok) {
      this.#logger.warn({ topic: ctx.topic, code: uplink.code, reason: uplink.message }, 'malformed uplink')
      if (uplink.id !== undefined) await this.#reply(ctx.topic, uplink.id, method, uplink)
      return
    }
    const answer = await this.#answer(ctx, identity, handler, uplink.params)
    if (uplink.ack) await this.#reply(ctx.topic, uplink.id, method, answer)
  }

  async #answer(
    ctx: UplinkContext,
    identity: DeviceIdentity,
    handler: UplinkHandlerFn,
    params: unknown,
  ): Promise<Answer> {
    try {
      const self = await this.#thingDevice(identity)
      if (self === undefined) return fail(AlinkCodes.deviceNotFound)
      const request: UplinkRequest = {
        ...self,
        topic: ctx.topic,
        params,
        now: this.#now(),
        invalid: (errors, code) => this.#invalid(ctx.topic, identity, errors, code),
        lookup: (target) => this.#lookup(ctx, target),
        configOffer: (pk) => this.configs.offer(pk),
      }
      return await handler(request)
    } catch (error) {
      if (error instanceof LinkkitError && error.code === 'ERR_TSL_INVALID')
        return fail(AlinkCodes.tslUnavailable)
      this.#logger.error({ err: error, topic: ctx.topic }, 'alink handler failed')
      return fail(AlinkCodes.unknown)
    }
  }

  /** A device's state and model; a model that failed to load throws (answered 6313). */
  async #thingDevice(identity: DeviceIdentity): Promise<ThingDevice | undefined> {
    const state = this.device(identity)
    if (state === undefined) return undefined
    return { identity, state, model: await this.models.get(identity.productKey), journal: this.#journal }
  }

  /** A device the publishing connection may post for: itself or one the ACL grants it. */
  #lookup(ctx: UplinkContext, target: DeviceIdentity): Promise<ThingDevice | undefined> {
    const allowed = this.#d.acl
      .identities(ctx)
      .some((id) => id.productKey === target.productKey && id.deviceName === target.deviceName)
    return allowed ? this.#thingDevice(target) : Promise.resolve(undefined)
  }

  #invalid(topic: string, identity: DeviceIdentity, errors: LinkkitError[], code: number): void {
    this.#logger.info({ topic, code, errors: errors.map((e) => e.message) }, 'uplink values refused')
    try {
      this.#d.onInvalid({ ...identity, topic, code, errors })
    } catch (error) {
      this.#logger.error({ err: error }, 'alink:invalid listener threw')
    }
  }

  async #reply(topic: string, id: string, method: string, answer: Answer): Promise<void> {
    try {
      await this.#d.publish(`${topic}_reply`, replyPayload(id, method, answer), { qos: 0 })
    } catch (error) {
      this.#logger.warn({ err: error, topic }, 'reply could not be published')
    }
  }
}
