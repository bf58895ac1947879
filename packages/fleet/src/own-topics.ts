import type { DeviceIdentity } from '@linkkit/core'

const SLASH = 0x2f
/** Where a device's Alink topics start: `/sys/{pk}/{dn}/…`. */
export const SYS = '/sys/'
/** Where a device's firmware pushes start: `/ota/device/upgrade/{pk}/{dn}`. */
export const UPGRADE = '/ota/device/upgrade/'

/**
 * The index just after `{pk}/{dn}` when `topic` names the device `d` from index `at` on (followed
 * by `/` or the end of the topic), else -1. Allocates nothing: the fleet checks every inbound
 * message of a device's connection with it, so a message of another device is never its.
 */
export function afterIdentity(topic: string, at: number, d: DeviceIdentity): number {
  const { productKey: pk, deviceName: dn } = d
  if (!topic.startsWith(pk, at) || topic.charCodeAt(at + pk.length) !== SLASH) return -1
  const end = at + pk.length + 1 + dn.length
  if (!topic.startsWith(dn, at + pk.length + 1)) return -1
  return end === topic.length || topic.charCodeAt(end) === SLASH ? end : -1
}
