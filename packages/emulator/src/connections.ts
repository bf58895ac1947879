import type { Aedes, AedesOptions, AedesPublishPacket, Client, Subscription } from 'aedes'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { isCustomTopic, type TopicAcl } from './acl.js'
import { ConnectAdmission } from './connect-admission.js'
import { type DeviceRegistry, type DeviceState, deviceKey, type Holder } from './registry.js'
import { type DeviceSession, REGISTER_TOPICS, type Session } from './session.js'
import type { StateStore } from './state/store.js'
import type { EmulatorEvents, UplinkContext } from './types.js'

export interface ConnectionsOptions {
  registry: DeviceRegistry
  acl: TopicAcl
  events: EventEmitter<EmulatorEvents>
  logger: Logger
  minKeepaliveSeconds: number
  registerCloseDelayMs: number
  onUplink: (ctx: UplinkContext) => void
  /** Where client ids, presence and kicks are shared with the other nodes (scale-out). */
  store: StateStore
  /** A device's publish that another node's broker received (scale-out): replies to this node's requests. */
  onRemoteUplink: (topic: string, payload: Buffer) => void
}

type BrokerHooks = Required<
  Pick<
    AedesOptions,
    'preConnect' | 'authenticate' | 'authorizePublish' | 'authorizeSubscribe' | 'authorizeForward'
  >
>

/**
 * The platform side of every MQTT connection: CONNECT admission (its `ConnectAdmission`), one live
 * connection per device identity, topic ACL, `_ss=1` auto-subscription, online/offline state.
 */
export class Connections {
  readonly #o: ConnectionsOptions
  readonly #sessions = new Map<Client, Session>()
  readonly #byIdentity = new Map<string, DeviceSession>()
  readonly #admission: ConnectAdmission
  #brokerId = ''

  constructor(options: ConnectionsOptions) {
    this.#o = options
    this.#admission = new ConnectAdmission({
      ...options,
      online: (session) => this.#online(session),
      registering: (session) => {
        const { client, identity } = session
        this.#sessions.set(client, session)
        client.conn.once('close', () => this.#sessions.delete(client))
        this.#o.events.emit('device:registered', { ...identity, via: 'mqtt' })
      },
    })
    options.registry.onRemotePresence((state, holder) => this.#takenOver(state, holder))
    options.store.bus.on('kick', (message) => this.#kickRequested(message))
  }

  readonly hooks: BrokerHooks = {
    preConnect: (client, packet, callback) => this.#admission.preConnect(client, packet, callback),
    authenticate: (client, username, password, done) =>
      this.#admission.authenticate(client, username, password, done),
    authorizePublish: (client, packet, callback) => {
      if (client === null) return callback(null)
      const session = this.#sessions.get(client)
      if (
        session?.kind === 'device' &&
        !session.ended &&
        this.#o.acl.canPublish(session.identity, packet.topic)
      ) {
        return callback(null)
      }
      // The platform closes the connection of a device publishing outside its topics; aedes
      // drops the connection when this callback fails, so the QoS 1 publish is never acknowledged.
      this.#o.logger.warn({ clientId: client.id, topic: packet.topic }, 'publish refused, disconnecting')
      callback(new Error(`not authorized to publish to ${packet.topic}`))
    },
    authorizeSubscribe: (client, sub, callback) => {
      const session = this.#sessions.get(client)
      const allowed =
        session?.kind === 'register'
          ? REGISTER_TOPICS.has(sub.topic)
          : session !== undefined && this.#o.acl.canSubscribe(session.identity, sub.topic)
      if (!allowed) this.#o.logger.debug({ clientId: client.id, filter: sub.topic }, 'subscribe refused')
      callback(null, allowed ? { ...sub, qos: capQos(sub.qos) } : null)
    },
    // System topics are one-way on the platform: a device never hears its own uplink echoed back,
    // even when a wildcard subscription or `_ss=1` covers the topic. Custom topics echo as MQTT does.
    authorizeForward: (client, packet) => {
      // aedes stamps the publisher's id on the packet it routes, though its types omit the field.
      const origin = (packet as { clientId?: string }).clientId
      return origin === client.id && !isCustomTopic(packet.topic) ? null : packet
    },
  }

  /** Wires the broker's events; call once after creating it. */
  attach(broker: Aedes): void {
    this.#brokerId = broker.id
    broker.on('subscribe', (subs: Subscription[], client: Client) => {
      const session = this.#sessions.get(client)
      if (session?.kind === 'device') {
        // aedes reports a refused subscription with the SUBACK failure code 128 as its qos.
        session.subscribed(subs.filter((s) => (s.qos as number) !== 128).map((s) => s.topic))
      }
    })
    broker.on('unsubscribe', (filters: string[], client: Client) => {
      const session = this.#sessions.get(client)
      if (session?.kind === 'device') session.unsubscribed(filters)
    })
    broker.on('clientReady', (client: Client) => {
      const session = this.#sessions.get(client)
      if (session?.kind === 'device') session.ready()
    })
    broker.on('connackSent', (packet, client) => {
      const session = this.#sessions.get(client)
      if (packet.returnCode !== 0) return
      if (session?.kind === 'register') session.push(this.#o.registerCloseDelayMs)
      if (session?.kind !== 'device' || session.ended || client.clean) return
      // From now on a publish reaches the client live. One published during the CONNECT lands in
      // the stored session's queue while aedes replays it: aedes failed with "no such packet" and
      // dropped the connection, so a reconnecting device got the offer again and again.
      // aedes restores the session's subscriptions without a `subscribe` event: they are listed.
      const filters = Object.keys(heldFilters(client))
      this.#o.events.emit('device:ready', { ...session.info(), filters })
    })
    broker.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
      const session = client === null ? undefined : this.#sessions.get(client)
      if (session?.kind !== 'device') return
      const payload =
        typeof packet.payload === 'string' ? Buffer.from(packet.payload) : Buffer.from(packet.payload)
      this.#o.onUplink({
        ...session.identity,
        topic: packet.topic,
        payload,
        qos: packet.qos,
        clientId: session.clientId,
      })
    })
    broker.subscribe(
      '#',
      (packet, cb) => this.#deliverAuto(packet, cb),
      () => {},
    )
  }

  /** The live connection of a device, if any. */
  session(productKey: string, deviceName: string): DeviceSession | undefined {
    return this.#byIdentity.get(deviceKey(productKey, deviceName))
  }

  /**
   * Closes the device's connection; false when it was not online. A device online on another node
   * (scale-out) is kicked there: true once the request is sent.
   */
  kick(productKey: string, deviceName: string): boolean {
    const session = this.session(productKey, deviceName)
    if (session !== undefined) {
      this.#end(session)
      session.client.close()
      return true
    }
    const holder = this.#o.registry.holder({ productKey, deviceName })
    if (this.#o.registry.get(productKey, deviceName)?.online !== true || holder === undefined) return false
    if (holder.node === this.#o.store.node) return false
    this.#o.store.bus.send('kick', { productKey, deviceName, token: holder.token })
    return true
  }

  #kickRequested(message: unknown): void {
    const { productKey, deviceName, token } = (message ?? {}) as Record<string, unknown>
    if (typeof productKey !== 'string' || typeof deviceName !== 'string') return
    const session = this.session(productKey, deviceName)
    if (session === undefined || session.token !== token) return
    this.#end(session)
    session.client.close()
  }

  /** Another node logged the device in: its connection here is the older one and goes. */
  #takenOver(state: DeviceState, holder: Readonly<Holder>): void {
    const session = this.session(state.productKey, state.deviceName)
    if (session === undefined || !state.online || session.token === holder.token) return
    this.#o.logger.info({ clientId: session.clientId }, 'device logged in on another node')
    this.#end(session)
    if (!session.client.closed) session.client.close()
  }

  #online(session: DeviceSession): void {
    const { client, identity } = session
    const key = deviceKey(identity.productKey, identity.deviceName)
    const previous = this.#byIdentity.get(key)
    if (previous !== undefined) {
      // A second connection of the same identity kicks the first (docs/protocol.md §1.5). With the same
      // clientId aedes closes the old client itself; closing it here too would race its takeover.
      this.#end(previous)
      if (previous.client.id !== client.id) previous.client.close()
    }
    this.#sessions.set(client, session)
    this.#byIdentity.set(key, session)
    client.conn.once('close', () => {
      this.#sessions.delete(client)
      this.#end(session)
    })
    this.#o.registry.markOnline(identity, session.clientId, session.clientParams, session.token)
    this.#o.logger.info({ clientId: session.clientId }, 'device online')
    this.#o.events.emit('device:online', session.info())
    // A clean session has nothing stored that a publish could duplicate: it can take downlinks now.
    if (client.clean) this.#o.events.emit('device:ready', { ...session.info(), filters: [] })
  }

  #end(session: DeviceSession): void {
    if (session.ended) return
    session.ended = true
    const { productKey, deviceName } = session.identity
    const key = deviceKey(productKey, deviceName)
    if (this.#byIdentity.get(key) === session) this.#byIdentity.delete(key)
    this.#o.registry.markOffline(session.identity, session.token)
    this.#o.logger.info({ clientId: session.clientId }, 'device offline')
    this.#o.events.emit('device:offline', session.info())
  }

  #deliverAuto(packet: AedesPublishPacket, cb: () => void): void {
    // Only with scale-out do packets of other brokers arrive here: their devices' replies may be ours.
    const origin = packet as { brokerId?: string; clientId?: string }
    if (origin.brokerId !== this.#brokerId && origin.clientId !== undefined) {
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload
      this.#o.onRemoteUplink(packet.topic, Buffer.from(payload))
    }
    if (!packet.topic.startsWith('$')) {
      for (const session of this.#byIdentity.values()) {
        if (!session.wantsAutoDelivery(packet.topic, this.#o.acl)) continue
        // Keeps the broker's packet id so aedes' per-client dedupe still applies.
        session.deliver({ ...packet, qos: capQos(packet.qos), retain: false })
      }
    }
    cb()
  }
}

/** The filters an aedes client holds (a field its typings leave out). */
function heldFilters(client: Client): Record<string, unknown> {
  return (client as unknown as { subscriptions?: Record<string, unknown> }).subscriptions ?? {}
}

/** The platform delivers at QoS 0 or 1 only (docs/protocol.md §1.2). */
function capQos(qos: number): 0 | 1 {
  return qos === 0 ? 0 : 1
}
