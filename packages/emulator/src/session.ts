import { topicMatches } from '@linkkit/core'
import type { Client, PublishPacket } from 'aedes'
import { systemNamespace, type TopicAcl } from './acl.js'
import type { DeviceConnectionInfo, DeviceIdentity } from './types.js'

/** One authenticated device connection. */
export class DeviceSession {
  readonly kind = 'device'
  readonly client: Client
  readonly identity: DeviceIdentity
  readonly clientId: string
  readonly clientParams: Record<string, string>
  /** Names this connection in the platform's presence records (unique across nodes). */
  readonly token: string
  /** `_ss=1`: system downlinks are delivered without SUBSCRIBE (docs/protocol.md §1.5). */
  readonly autoSubscribe: boolean
  /** Set once the device counts as offline for this connection (closed, kicked or superseded). */
  ended = false
  readonly #explicit = new Set<string>()
  readonly #excluded = new Set<string>()
  /** Auto-delivered packets held until aedes finished the CONNECT, see `deliver`. */
  #held: PublishPacket[] | undefined = []

  constructor(client: Client, identity: DeviceIdentity, clientParams: Record<string, string>, token: string) {
    this.client = client
    this.identity = identity
    this.clientId = client.id
    this.clientParams = clientParams
    this.token = token
    this.autoSubscribe = clientParams._ss === '1'
  }

  /**
   * Sends an auto-subscribed packet. Until aedes has finished the CONNECT (it is still replaying
   * the stored queue of a persistent session, which would pick up the packet a second time),
   * packets are held and sent in order by `ready()`.
   */
  deliver(packet: PublishPacket): void {
    if (this.#held !== undefined) this.#held.push(packet)
    else this.client.publish(packet, () => {})
  }

  ready(): void {
    const held = this.#held ?? []
    this.#held = undefined
    for (const packet of held) this.deliver(packet)
  }

  info(): DeviceConnectionInfo {
    return { ...this.identity, clientId: this.clientId, clientParams: { ...this.clientParams } }
  }

  /** Granted filters of a SUBSCRIBE (refused ones excluded). */
  subscribed(filters: readonly string[]): void {
    for (const filter of filters) this.#explicit.add(filter)
  }

  /**
   * An UNSUBSCRIBE also removes auto-subscribed topics (docs/protocol.md §1.5: 3.x unsubscribes
   * `.../thing/event/+/post_reply` to stop post replies), so each filter is remembered as an
   * exclusion, which also covers a filter narrower than the auto-subscription.
   */
  unsubscribed(filters: readonly string[]): void {
    for (const filter of filters) {
      this.#explicit.delete(filter)
      this.#excluded.add(filter)
    }
  }

  /**
   * Whether a published `topic` reaches this device only through its auto-subscription: it is one
   * of the system topics of the identities the ACL grants the connection, no explicit subscription
   * already delivers it (the broker does that), and no UNSUBSCRIBE excluded it.
   */
  wantsAutoDelivery(topic: string, acl: TopicAcl): boolean {
    if (!this.autoSubscribe || this.ended) return false
    for (const filter of this.#explicit) if (topicMatches(filter, topic)) return false
    for (const filter of this.#excluded) if (topicMatches(filter, topic)) return false
    return acl
      .identities(this.identity)
      .some((identity) => systemNamespace(identity).some((filter) => topicMatches(filter, topic)))
  }
}

/** An MQTT dynamic-registration connection (docs/protocol.md §1.4): it only receives `/ext/register`. */
export class RegisterSession {
  readonly kind = 'register'
  readonly client: Client
  readonly identity: DeviceIdentity
  readonly deviceSecret: string

  constructor(client: Client, identity: DeviceIdentity, deviceSecret: string) {
    this.client = client
    this.identity = identity
    this.deviceSecret = deviceSecret
  }

  /**
   * Publishes `/ext/register` (no SUBSCRIBE needed) right after CONNACK, since 3.x waits only
   * ~200 ms for it (docs/protocol.md §6 quirk 12), then closes the connection `closeDelayMs` later, as
   * the platform closes it once the secret is delivered.
   */
  push(closeDelayMs: number): void {
    const { productKey, deviceName } = this.identity
    const payload = Buffer.from(
      JSON.stringify({ productKey, deviceName, deviceSecret: this.deviceSecret }),
      'utf8',
    )
    const packet: PublishPacket = {
      cmd: 'publish',
      topic: '/ext/register',
      payload,
      qos: 0,
      retain: false,
      dup: false,
    }
    this.client.publish(packet, () => {
      setTimeout(() => this.client.close(), closeDelayMs).unref()
    })
  }
}

export type Session = DeviceSession | RegisterSession

/** Topics a registration connection may subscribe to (the SDKs do not, but may). */
export const REGISTER_TOPICS: ReadonlySet<string> = new Set(['/ext/register', '/ext/regnwl'])
