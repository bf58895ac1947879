import { deviceKey } from '../registry.js'
import type { DeviceIdentity } from '../types.js'

/** A sub-device's session through its gateway (`combine.login`, docs/protocol.md §5). */
export interface SubDeviceSession {
  /** The gateway the sub-device logged in through. */
  gateway: DeviceIdentity
  /** The clientId the login named. */
  clientId: string
  /** The login's `cleanSession`. */
  cleanSession: boolean
  /** Login time, ms since the epoch. */
  since: number
}

function key(identity: DeviceIdentity): string {
  return deviceKey(identity.productKey, identity.deviceName)
}

function copy(identity: DeviceIdentity): DeviceIdentity {
  return { productKey: identity.productKey, deviceName: identity.deviceName }
}

/**
 * The platform's gateway bookkeeping: which sub-devices hang under which gateway (a sub-device has
 * one gateway; adding it to another moves it) and which of them are logged in. All lookups are
 * by map, since a gateway may carry thousands of sub-devices.
 */
export class Topology {
  readonly #members = new Map<string, Map<string, DeviceIdentity>>()
  readonly #gatewayOf = new Map<string, DeviceIdentity>()
  readonly #sessions = new Map<string, SubDeviceSession>()
  readonly #online = new Map<string, Set<string>>()

  /** Adds the relation; returns the gateway the sub-device was moved away from, if any. */
  add(gateway: DeviceIdentity, sub: DeviceIdentity): DeviceIdentity | undefined {
    const previous = this.#gatewayOf.get(key(sub))
    if (previous !== undefined && key(previous) !== key(gateway)) this.remove(previous, sub)
    let members = this.#members.get(key(gateway))
    if (members === undefined) {
      members = new Map()
      this.#members.set(key(gateway), members)
    }
    members.set(key(sub), copy(sub))
    this.#gatewayOf.set(key(sub), copy(gateway))
    return previous !== undefined && key(previous) !== key(gateway) ? previous : undefined
  }

  /** Removes the relation; false when there was none. The caller logs the sub-device out first. */
  remove(gateway: DeviceIdentity, sub: DeviceIdentity): boolean {
    const members = this.#members.get(key(gateway))
    if (members?.delete(key(sub)) !== true) return false
    this.#gatewayOf.delete(key(sub))
    return true
  }

  /** Whether `sub` is in the gateway's topology. */
  isMember(gateway: DeviceIdentity, sub: DeviceIdentity): boolean {
    return this.#members.get(key(gateway))?.has(key(sub)) === true
  }

  /** The gateway whose topology holds `sub`, if any. */
  gatewayOf(sub: DeviceIdentity): DeviceIdentity | undefined {
    return this.#gatewayOf.get(key(sub))
  }

  /** The sub-devices in the gateway's topology. */
  members(gateway: DeviceIdentity): DeviceIdentity[] {
    return [...(this.#members.get(key(gateway))?.values() ?? [])].map(copy)
  }

  /** How many sub-devices the gateway's topology holds. */
  size(gateway: DeviceIdentity): number {
    return this.#members.get(key(gateway))?.size ?? 0
  }

  /** Records a sub-device session. */
  login(sub: DeviceIdentity, session: SubDeviceSession): void {
    this.logout(sub)
    this.#sessions.set(key(sub), session)
    let online = this.#online.get(key(session.gateway))
    if (online === undefined) {
      online = new Set()
      this.#online.set(key(session.gateway), online)
    }
    online.add(key(sub))
  }

  /** Ends the sub-device's session; returns it, or undefined when it was not logged in. */
  logout(sub: DeviceIdentity): SubDeviceSession | undefined {
    const session = this.#sessions.get(key(sub))
    if (session === undefined) return undefined
    this.#sessions.delete(key(sub))
    this.#online.get(key(session.gateway))?.delete(key(sub))
    return session
  }

  /** The sub-device's session, if it is logged in. */
  session(sub: DeviceIdentity): SubDeviceSession | undefined {
    return this.#sessions.get(key(sub))
  }

  /** Whether `sub` is logged in through `gateway`. */
  loggedInVia(gateway: DeviceIdentity, sub: DeviceIdentity): boolean {
    const session = this.#sessions.get(key(sub))
    return session !== undefined && key(session.gateway) === key(gateway)
  }

  /** The logged-in sub-devices of a gateway. */
  online(gateway: DeviceIdentity): DeviceIdentity[] {
    const keys = this.#online.get(key(gateway)) ?? new Set<string>()
    return [...keys].flatMap((k) => {
      const session = this.#sessions.get(k)
      const [productKey = '', deviceName = ''] = k.split('/')
      return session === undefined ? [] : [{ productKey, deviceName }]
    })
  }

  /** How many of the gateway's sub-devices are logged in. */
  onlineCount(gateway: DeviceIdentity): number {
    return this.#online.get(key(gateway))?.size ?? 0
  }
}
