import type { DeviceIdentity } from '../types.js'

/**
 * The device whose namespace a topic or filter lies in (PROTOCOL.md §2.2, §3.1, §5): `/sys/{pk}/{dn}/…`,
 * `/ota/device/{op}/{pk}/{dn}`, `/ext/{ntp,session,error}/{pk}/{dn}…`, `/ext/rrpc/{id}/sys/{pk}/{dn}/…`,
 * `/ext/rrpc/{id}/{pk}/{dn}/user/…`, `/shadow/{op}/{pk}/{dn}` and custom `/{pk}/{dn}/user/…`.
 * Undefined for any other topic, and when the productKey or deviceName level is a wildcard.
 */
export function topicIdentity(topic: string): DeviceIdentity | undefined {
  const levels = topic.split('/')
  const at = identityLevel(levels)
  if (at < 0) return undefined
  const productKey = levels[at]
  const deviceName = levels[at + 1]
  if (!isName(productKey) || !isName(deviceName)) return undefined
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

function isName(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '+' && value !== '#'
}

export function sameIdentity(a: DeviceIdentity, b: DeviceIdentity): boolean {
  return a.productKey === b.productKey && a.deviceName === b.deviceName
}
