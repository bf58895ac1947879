import type { Client } from 'aedes'
import { deviceKey } from './registry.js'
import { parseClientId } from './signing/client-id.js'
import type { StateTable } from './state/store.js'
import type { DeviceIdentity } from './types.js'

/**
 * Which device holds each clientId. aedes keys sessions (live connection, subscriptions, queued
 * QoS 1 messages of a `clean=false` session) by the raw clientId, while the platform keys them by
 * the device. So a clientId belongs to the first device that logs in with it, for as long as aedes
 * may keep a session for it: while a connection with it is open, and after a `clean=false` one. A
 * clientId whose base names a known device (`${pk}.${dn}`, or `${dn}.${pk}` as 4.x registers) is
 * that device's from the start, so that no other device can claim it first.
 *
 * With scale-out the owners live in the state store: a claim is decided there, atomically, so two
 * nodes never hand one clientId to two devices, and a connection's end releases the clientId only
 * while that connection still holds it.
 */
export class ClientIdOwners {
  readonly #owners = new Map<string, string>()
  readonly #live = new Map<string, Client>()
  readonly #isDevice: (identity: DeviceIdentity) => boolean
  readonly #table: StateTable<string>

  /** `isDevice(identity)`: whether the platform knows the device. */
  constructor(isDevice: (identity: DeviceIdentity) => boolean, table: StateTable<string>) {
    this.#isDevice = isDevice
    this.#table = table
    table.onChange((clientId, owner) => {
      if (owner === undefined) this.#owners.delete(clientId)
      else this.#owners.set(clientId, owner)
    })
  }

  /** Whether the device may use `clientId`. */
  mayUse(clientId: string, device: DeviceIdentity): boolean {
    const owner = deviceKey(device.productKey, device.deviceName)
    const held = this.#owners.get(clientId) ?? this.#named(clientId, owner)
    return held === undefined || held === owner
  }

  /**
   * Records that the device logged in with `client.id` on the connection `token`; call once its
   * CONNECT is verified and `mayUse` allowed it. The same device may take the clientId over (aedes
   * closes its older connection, on whichever node). False (possibly later) when another node's
   * device claimed the clientId first.
   */
  claim(client: Client, device: DeviceIdentity, token: string): boolean | Promise<boolean> {
    const owner = deviceKey(device.productKey, device.deviceName)
    this.#owners.set(client.id, owner)
    this.#live.set(client.id, client)
    client.conn.once('close', () => this.#release(client, token))
    return this.#table.claim(client.id, owner, token)
  }

  /** The known device other than `owner` that the clientId's base names, if any. */
  #named(clientId: string, owner: string): string | undefined {
    const { base } = parseClientId(clientId)
    const first = base.indexOf('.')
    const last = base.lastIndexOf('.')
    if (first <= 0 || last === base.length - 1) return undefined
    const named = [
      { productKey: base.slice(0, first), deviceName: base.slice(first + 1) },
      { productKey: base.slice(last + 1), deviceName: base.slice(0, last) },
    ]
      .filter((device) => this.#isDevice(device))
      .map((device) => deviceKey(device.productKey, device.deviceName))
    return named.find((key) => key !== owner)
  }

  #release(client: Client, token: string): void {
    if (this.#live.get(client.id) !== client) return
    this.#live.delete(client.id)
    // A clean session ends with its connection; a persistent one stays its device's.
    if (!client.clean) return
    this.#owners.delete(client.id)
    this.#table.remove(client.id, { ifGuard: token })
  }
}
