import type { DeviceIdentity } from '@linkkit/core'
import { type OtaHost, offerReceived } from './fleet-ota.js'
import type { FleetThing } from './fleet-thing.js'
import type { SimDevice } from './sim-device.js'

const SLASH = 0x2f
/** Where a device's Alink topics start: `/sys/{pk}/{dn}/…`. */
const SYS = '/sys/'
/** Where a device's firmware pushes start: `/ota/device/upgrade/{pk}/{dn}`. */
const UPGRADE = '/ota/device/upgrade/'

/**
 * The index just after `{pk}/{dn}` when `topic` names the device `d` from index `at` on (followed
 * by `/` or the end of the topic), else -1. Allocates nothing: every inbound message is checked.
 */
export function afterIdentity(topic: string, at: number, d: DeviceIdentity): number {
  const { productKey: pk, deviceName: dn } = d
  if (!topic.startsWith(pk, at) || topic.charCodeAt(at + pk.length) !== SLASH) return -1
  const end = at + pk.length + 1 + dn.length
  if (!topic.startsWith(dn, at + pk.length + 1)) return -1
  return end === topic.length || topic.charCodeAt(end) === SLASH ? end : -1
}

/**
 * One inbound message of an online device's connection, by its topic: the thing model's (post
 * replies, requests), a firmware push, else the running upgrade's session's. A topic of another
 * device is dropped: the device's filters ask for none, and the broker must send none.
 */
export function routeMessage(
  sim: SimDevice,
  topic: string,
  payload: Buffer,
  thing: FleetThing,
  ota: OtaHost,
  now: number,
): void {
  const t = sim.triple
  if (topic.startsWith(SYS)) {
    const end = afterIdentity(topic, SYS.length, t)
    if (end < 0) return
    if (thing.deliver(sim, topic.slice(end + 1), topic, payload, now)) return
  } else if (topic.startsWith(UPGRADE)) {
    if (afterIdentity(topic, UPGRADE.length, t) === topic.length) offerReceived(ota, sim, topic, payload)
    return
  }
  sim.ota?.session.deliver(topic, payload)
}
