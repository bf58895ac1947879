import {
  createLogger,
  type DeviceIdentity,
  identityKey,
  type LinkkitError,
  type Session,
  Topics,
  toLinkkitError,
  WireCodes,
} from '@linkkit/core'
import type { Logger } from 'pino'
import { parseConfigOffer } from './cota.js'
import { parseOfferData } from './offer.js'
import { INBOUND, type OtaInbound, offersNothing, readInbound } from './ota-inbound.js'
import { VersionInforms, type VersionSource } from './ota-informs.js'
import { assertStep, assertVersion, OtaProgress } from './progress.js'
import type { ConfigOffer, FirmwareOffer, FotaRequestOptions } from './types.js'

export type { OtaInbound } from './ota-inbound.js'
export type { VersionSource } from './ota-informs.js'

/** What one user of a channel hears, on the inbound kinds it attached for. Each call is guarded. */
export interface OtaListener {
  /** A valid firmware offer: an upgrade push, a legacy request message with a url, an unsolicited firmware/get reply. */
  offer?(offer: FirmwareOffer, via: OtaInbound): void
  /** A valid configuration offer; a push was already answered 200. */
  config?(offer: ConfigOffer, via: OtaInbound): void
  /** A refused message, already answered 460 (config push) or reported as step -1 (firmware offer). */
  refused?(error: LinkkitError, via: OtaInbound, topic: string): void
}

/** One user's hold on a channel. */
export interface OtaAttachment {
  /** Resolves once every kind it attached for is subscribed; rejects when a subscription was refused. */
  readonly ready: Promise<void>
  /** Stops hearing; a topic nobody else hears is unsubscribed. Idempotent. */
  detach(): Promise<void>
}

interface TopicHold {
  users: number
  subscribing: Promise<() => Promise<void>>
}

interface User {
  kinds: ReadonlySet<OtaInbound>
  listener: OtaListener
}

/** `thing.config.get` asks for the product's configuration file (docs/protocol.md §2.3). */
const CONFIG_GET_PARAMS = Object.freeze({ configScope: 'product', getType: 'file' })

const channels = new WeakMap<Session, Map<string, OtaChannel>>()

/**
 * The OTA protocol of one device identity on one session, shared by everyone who uses it
 * (`OtaSession`, `FotaClient`, several of each): each OTA topic is subscribed once, at the C SDK's
 * QoS; each inbound message is read once (within core's inbound limits) and answered once (one
 * `push_reply` per config push, one step -1 per refused offer); then its offer goes to every user
 * attached for that topic. Progress and informs go out through it too (docs/protocol.md §3).
 */
export class OtaChannel {
  /** The session the messages travel on. */
  readonly session: Session
  /** Whose OTA topics these are (the session's own identity, or another one it carries). */
  readonly identity: Readonly<DeviceIdentity>
  readonly #logger: Logger
  readonly #users = new Set<User>()
  readonly #topics = new Map<OtaInbound, TopicHold>()
  readonly #informs: VersionInforms

  private constructor(session: Session, identity: DeviceIdentity) {
    this.session = session
    this.identity = Object.freeze({ productKey: identity.productKey, deviceName: identity.deviceName })
    this.#logger = createLogger(session.logger, 'ota')
    this.#informs = new VersionInforms(session, (version, module) => this.inform(version, module))
  }

  /** The channel of `identity` (default: the session's own) on `session`, made on first use. */
  static for(session: Session, identity: DeviceIdentity = session): OtaChannel {
    let byIdentity = channels.get(session)
    if (!byIdentity) {
      byIdentity = new Map()
      channels.set(session, byIdentity)
    }
    const key = identityKey(identity)
    let channel = byIdentity.get(key)
    if (!channel) {
      channel = new OtaChannel(session, identity)
      byIdentity.set(key, channel)
    }
    return channel
  }

  /** Starts hearing `kinds` (subscribing each topic no other user holds yet). */
  attach(kinds: readonly OtaInbound[], listener: OtaListener): OtaAttachment {
    const user: User = { kinds: new Set(kinds), listener }
    this.#users.add(user)
    const holds = [...user.kinds].map((kind) => [kind, this.#hold(kind)] as const)
    const ready = Promise.all(holds.map(([, hold]) => hold.subscribing)).then(() => {})
    // A refused subscription reaches the user through `ready`; here it must not count as unhandled.
    ready.catch(() => {})
    let detached: Promise<void> | undefined
    const detach = () => {
      detached ??= (async () => {
        this.#users.delete(user)
        for (const [kind, hold] of holds) await this.#release(kind, hold)
      })()
      return detached
    }
    return { ready, detach }
  }

  #hold(kind: OtaInbound): TopicHold {
    let hold = this.#topics.get(kind)
    if (!hold) {
      const { topic, qos } = INBOUND[kind]
      const subscribing = this.session.subscribe(
        topic(this.identity),
        (t, payload) => this.#onMessage(kind, t, payload),
        { qos },
      )
      const created: TopicHold = { users: 0, subscribing }
      // A refused subscription is forgotten, so the next user tries again.
      subscribing.catch(() => {
        if (this.#topics.get(kind) === created) this.#topics.delete(kind)
      })
      this.#topics.set(kind, created)
      hold = created
    }
    hold.users += 1
    return hold
  }

  async #release(kind: OtaInbound, hold: TopicHold): Promise<void> {
    hold.users -= 1
    if (hold.users > 0) return
    if (this.#topics.get(kind) === hold) this.#topics.delete(kind)
    const unsubscribe = await hold.subscribing.catch(() => undefined)
    // The session may already be closed; its subscriptions went with it.
    await unsubscribe?.().catch(() => {})
  }

  #onMessage(via: OtaInbound, topic: string, payload: Buffer): void {
    // The last user of this topic is leaving (its unsubscribe is on the way): nobody to act on it.
    if (![...this.#users].some((user) => user.kinds.has(via))) return
    const message = readInbound(via, topic, payload)
    switch (message.kind) {
      case 'ignored':
        return
      case 'offer':
        this.#logger.info(
          { version: message.offer.version, module: message.offer.module, size: message.offer.size },
          'firmware offered',
        )
        this.#deliver(via, (l) => l.offer?.(message.offer, via))
        return
      case 'config':
        if (message.replyId !== undefined) this.#reply(topic, message.replyId, 200)
        this.#deliver(via, (l) => l.config?.(message.offer, via))
        return
      case 'refused': {
        const { error } = message
        this.#logger.debug({ code: error.code, topic }, error.message)
        if (message.replyId !== undefined)
          this.#reply(topic, message.replyId, WireCodes.invalidParams, 'invalid config push')
        this.#deliver(via, (l) => l.refused?.(error, via, topic))
        // One step -1 with the reason, however many users heard it (docs/protocol.md §3.5).
        if (message.offer)
          void this.reportProgress(OtaProgress.GeneralFailed, `invalid offer: ${error.message}`.slice(0, 128))
        return
      }
    }
  }

  #deliver(via: OtaInbound, call: (listener: OtaListener) => void): void {
    for (const user of [...this.#users]) {
      if (!user.kinds.has(via)) continue
      try {
        call(user.listener)
      } catch (error) {
        // Users guard their own listeners; this keeps one user's bug from starving the others.
        this.#logger.error({ err: (error as Error).message }, 'an OTA user failed on an inbound message')
      }
    }
  }

  #reply(topic: string, id: string, code: number, message?: string): void {
    this.session.reply(Topics.reply(topic), id, code, {}, message).catch((error: unknown) => {
      this.#logger.debug({ code: toLinkkitError(error, 'ERR_PUBLISH_FAILED').code }, 'push_reply not sent')
    })
  }

  /**
   * Publishes one progress step on `/ota/device/progress` (`{"id","params":{"step":"<n>","desc","module"?}}`,
   * step a string; docs/protocol.md §3.5) at QoS 0 as the C SDK does; while reconnecting it waits
   * in the offline queue. Throws `ERR_INVALID_ARGUMENT` for a step outside [-4, 100]; a failure to
   * deliver is logged, never thrown: progress must not break a download.
   */
  async reportProgress(step: number, desc = '', module?: string): Promise<void> {
    assertStep(step)
    const params: Record<string, string> = { step: String(step), desc }
    if (module !== undefined && module !== 'default') params.module = module
    try {
      await this.session.publish(
        Topics.otaProgress(this.identity),
        { id: this.session.nextId(), params },
        { qos: 0, queueOffline: true },
      )
    } catch (error) {
      this.#logger.warn(
        { step, code: toLinkkitError(error, 'ERR_PUBLISH_FAILED').code },
        'progress not delivered',
      )
    }
  }

  /**
   * Informs the running version of a module, `{"id","params":{"version","module"?}}` on
   * `/ota/device/inform` (docs/protocol.md §3.2), at QoS 1 as the C SDK does. Throws
   * `ERR_INVALID_ARGUMENT` for a bad version, and the publish's error.
   */
  async inform(version: string, module?: string): Promise<void> {
    assertVersion(version)
    const params: Record<string, string> = { version }
    if (module !== undefined && module !== 'default') params.module = module
    await this.session.publish(
      Topics.otaInform(this.identity),
      { id: this.session.nextId(), params },
      { qos: 1 },
    )
    this.#informs.sent(module, version)
  }

  /**
   * Informs the source's versions at every (re)connect, until the returned function is called.
   * However many sources name the same module and version, it goes out once per connection.
   */
  informOnConnect(source: VersionSource): () => void {
    return this.#informs.register(source)
  }

  /** Informs now what of the source's versions this connection was not told yet. */
  informNow(source: VersionSource): Promise<void> {
    return this.#informs.informNow(source)
  }

  /**
   * Asks for pending firmware (`thing.ota.firmware.get`, docs/protocol.md §3.4); resolves with the
   * offer of the reply, or undefined when nothing is pending.
   */
  async requestFirmware(
    module: string | undefined,
    options: FotaRequestOptions = {},
  ): Promise<FirmwareOffer | undefined> {
    const params = module === undefined ? {} : { module }
    const reply = await this.session.request(Topics.otaFirmwareGet(this.identity), params, {
      method: 'thing.ota.firmware.get',
      ...options,
    })
    return offersNothing(reply.data) ? undefined : parseOfferData(reply.data)
  }

  /** Asks for the product configuration (`thing.config.get`); resolves with the offer of the reply, or undefined. */
  async requestConfig(options: FotaRequestOptions = {}): Promise<ConfigOffer | undefined> {
    const reply = await this.session.request(Topics.configGet(this.identity), CONFIG_GET_PARAMS, {
      method: 'thing.config.get',
      ...options,
    })
    return offersNothing(reply.data) ? undefined : parseConfigOffer(reply.data)
  }

  /**
   * Sends `thing.config.get` without waiting (iotx_ota_get_config): the reply arrives on
   * `config/get_reply` as a `config` offer for the users attached for it. At the session's
   * `alinkQos` (QoS 0, as the C SDK sends it), queued while reconnecting.
   */
  async sendConfigGet(): Promise<void> {
    const body = {
      id: this.session.nextId(),
      version: '1.0',
      params: CONFIG_GET_PARAMS,
      method: 'thing.config.get',
    }
    await this.session.publish(Topics.configGet(this.identity), body, {
      qos: this.session.alinkQos,
      queueOffline: true,
    })
  }
}
