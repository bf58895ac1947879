import { topicMatches } from '@linkkit/core'
import { deviceKey } from './registry.js'
import type { DeviceIdentity } from './types.js'

/**
 * The device's system topics as filters over its own pk/dn (docs/protocol.md §2.2, §3.1, §1.5):
 * Alink, OTA, NTP, sessions, error notices, RRPC and shadow. These are what `_ss=1` delivers.
 */
export function systemNamespace({ productKey: pk, deviceName: dn }: DeviceIdentity): string[] {
  return [
    `/sys/${pk}/${dn}/#`,
    `/ota/device/+/${pk}/${dn}`,
    `/ext/ntp/${pk}/${dn}/#`,
    `/ext/session/${pk}/${dn}/#`,
    `/ext/error/${pk}/${dn}`,
    `/ext/rrpc/+/sys/${pk}/${dn}/#`,
    `/shadow/+/${pk}/${dn}`,
  ]
}

/** Every topic a device may publish or subscribe to: its system topics and its custom ones. */
export function deviceNamespace(identity: DeviceIdentity): string[] {
  const { productKey: pk, deviceName: dn } = identity
  return [...systemNamespace(identity), `/ext/rrpc/+/${pk}/${dn}/user/#`, `/${pk}/${dn}/user/#`]
}

/** Custom topics are `/${pk}/${dn}/user/...` (or their RRPC form); everything else is a system topic. */
export function isCustomTopic(topic: string): boolean {
  const levels = topic.split('/')
  if (levels[1] === 'ext') return levels[2] === 'rrpc' && levels[4] !== 'sys' && levels[6] === 'user'
  return levels[3] === 'user' && !SYSTEM_ROOTS.has(levels[1] ?? '')
}

const SYSTEM_ROOTS = new Set(['sys', 'ota', 'shadow'])

/**
 * Whether every topic `filter` can match is also matched by `pattern`, so a subscription to
 * `filter` can never receive a topic outside `pattern`.
 */
export function filterWithin(filter: string, pattern: string): boolean {
  const f = filter.split('/')
  const p = pattern.split('/')
  for (let i = 0; i < f.length; i++) {
    const pp = p[i]
    const fp = f[i]
    if (pp === '#') return true
    if (pp === undefined || fp === '#') return false
    if (fp === '+' ? pp !== '+' : pp !== '+' && pp !== fp) return false
  }
  // A pattern `a/#` also matches the parent `a`; any other longer pattern does not.
  return f.length === p.length || (p.length === f.length + 1 && p[f.length] === '#')
}

/**
 * Topic access control. A connection may use the topics of its own identity plus those of the
 * identities granted to it, which is how a gateway will be allowed the topics of its logged-in
 * sub-devices (`acl.allow(gateway, subDevice)` after `combine.login`, docs/protocol.md §5).
 */
export class TopicAcl {
  readonly #grants = new Map<string, Map<string, DeviceIdentity>>()

  /** Lets `holder`'s connection use `identity`'s topics as its own. */
  allow(holder: DeviceIdentity, identity: DeviceIdentity): void {
    const key = deviceKey(holder.productKey, holder.deviceName)
    let granted = this.#grants.get(key)
    if (granted === undefined) {
      granted = new Map()
      this.#grants.set(key, granted)
    }
    granted.set(deviceKey(identity.productKey, identity.deviceName), { ...identity })
  }

  /** Takes back what `allow(holder, identity)` granted. */
  revoke(holder: DeviceIdentity, identity: DeviceIdentity): void {
    this.#grants
      .get(deviceKey(holder.productKey, holder.deviceName))
      ?.delete(deviceKey(identity.productKey, identity.deviceName))
  }

  /** Takes back everything granted to `holder` (its connection closed). */
  revokeAll(holder: DeviceIdentity): void {
    this.#grants.delete(deviceKey(holder.productKey, holder.deviceName))
  }

  /** The identities whose topics `holder` may use: itself first, then its grants. */
  identities(holder: DeviceIdentity): DeviceIdentity[] {
    const granted = this.#grants.get(deviceKey(holder.productKey, holder.deviceName))
    return [{ productKey: holder.productKey, deviceName: holder.deviceName }, ...(granted?.values() ?? [])]
  }

  /** Whether `holder` may publish on `topic`. */
  canPublish(holder: DeviceIdentity, topic: string): boolean {
    return this.identities(holder).some((id) => deviceNamespace(id).some((p) => topicMatches(p, topic)))
  }

  /** Whether `holder` may subscribe to `filter` (every topic it matches must be allowed). */
  canSubscribe(holder: DeviceIdentity, filter: string): boolean {
    return this.identities(holder).some((id) => deviceNamespace(id).some((p) => filterWithin(filter, p)))
  }
}
