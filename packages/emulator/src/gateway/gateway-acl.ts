import { sameIdentity, topicIdentity, topicMatches } from '@linkkit/core'
import { deviceNamespace, filterWithin, TopicAcl } from '../acl.js'
import { deviceKey } from '../registry.js'
import type { DeviceIdentity } from '../types.js'
import { Topology } from './topology.js'

function pair(holder: DeviceIdentity, identity: DeviceIdentity): string {
  return `${deviceKey(holder.productKey, holder.deviceName)}>${deviceKey(identity.productKey, identity.deviceName)}`
}

/**
 * The topic ACL with gateways (docs/protocol.md §5). A gateway may subscribe and publish on the topics
 * of every sub-device in its topology: whether a message is carried is decided later by the
 * gateway service (routing only while the sub-device is logged in, 520 otherwise), since the
 * platform answers such a publish instead of closing the gateway's connection. The grants of
 * logged-in sub-devices (`allow`) are what `_ss=1` auto-delivery and history posts go by.
 *
 * Checks find the topic's owner first, so a gateway with thousands of sub-devices costs a map
 * lookup per message rather than a scan of every grant.
 */
export class GatewayAcl extends TopicAcl {
  /** The gateways' topologies and sub-device sessions. */
  readonly topology = new Topology()
  readonly #granted = new Set<string>()

  override allow(holder: DeviceIdentity, identity: DeviceIdentity): void {
    super.allow(holder, identity)
    this.#granted.add(pair(holder, identity))
  }

  /** Takes back what `allow(holder, identity)` granted. */
  override revoke(holder: DeviceIdentity, identity: DeviceIdentity): void {
    super.revoke(holder, identity)
    this.#granted.delete(pair(holder, identity))
  }

  /** Takes back everything granted to `holder`. */
  override revokeAll(holder: DeviceIdentity): void {
    super.revokeAll(holder)
    const prefix = `${deviceKey(holder.productKey, holder.deviceName)}>`
    for (const entry of this.#granted) if (entry.startsWith(prefix)) this.#granted.delete(entry)
  }

  /** Whether `holder` was granted `identity`'s topics (it is logged in through `holder`). */
  granted(holder: DeviceIdentity, identity: DeviceIdentity): boolean {
    return this.#granted.has(pair(holder, identity))
  }

  /** Whether `holder` may publish on `topic`, its logged-in sub-devices' topics included. */
  override canPublish(holder: DeviceIdentity, topic: string): boolean {
    const owner = topicIdentity(topic)
    if (owner !== undefined && this.#reaches(holder, owner)) {
      if (deviceNamespace(owner).some((pattern) => topicMatches(pattern, topic))) return true
    }
    return super.canPublish(holder, topic)
  }

  /** Whether `holder` may subscribe to `filter`, its sub-devices' topics included. */
  override canSubscribe(holder: DeviceIdentity, filter: string): boolean {
    const owner = topicIdentity(filter)
    if (owner !== undefined && this.#reaches(holder, owner)) {
      if (deviceNamespace(owner).some((pattern) => filterWithin(filter, pattern))) return true
    }
    return super.canSubscribe(holder, filter)
  }

  #reaches(holder: DeviceIdentity, owner: DeviceIdentity): boolean {
    return sameIdentity(holder, owner) || this.granted(holder, owner) || this.topology.isMember(holder, owner)
  }
}
