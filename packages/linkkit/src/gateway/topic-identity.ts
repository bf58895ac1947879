import type { DeviceIdentity } from '@linkkit/core'

/**
 * The device whose namespace a topic lies in (PROTOCOL.md §2.2, §3.1, §5): `/sys/{pk}/{dn}/…`,
 * `/ota/device/{op}/{pk}/{dn}`, `/ext/{ntp,session,error}/{pk}/{dn}…`, `/ext/rrpc/{id}/sys/{pk}/{dn}/…`,
 * `/shadow/{op}/{pk}/{dn}` and custom `/{pk}/{dn}/user/…`; undefined for any other topic.
 */
export function topicIdentity(topic: string): DeviceIdentity | undefined {
  const levels = topic.split('/')
  const at = identityLevel(levels)
  const productKey = levels[at]
  const deviceName = levels[at + 1]
  if (at < 0 || !productKey || !deviceName) return undefined
  return { productKey, deviceName }
}

function identityLevel(levels: readonly string[]): number {
  switch (levels[1]) {
    case 'sys':
      return 2
    case 'ota':
      return levels[2] === 'device' ? 4 : -1
    case 'shadow':
      return 3
    case 'ext':
      if (levels[2] === 'rrpc') return levels[4] === 'sys' ? 5 : 4
      return levels[2] === 'ntp' || levels[2] === 'session' || levels[2] === 'error' ? 3 : -1
    default:
      return levels[0] === '' && levels[3] === 'user' ? 1 : -1
  }
}

export function identityKey(identity: DeviceIdentity): string {
  return `${identity.productKey}/${identity.deviceName}`
}
