import type { DeviceState } from './registry.js'
import type { DeviceIdentity } from './types.js'

/** What the state store holds of a device's record: identity, secret, disabled, activated. */
export type StoredDevice = Pick<
  DeviceState,
  'productKey' | 'deviceName' | 'deviceSecret' | 'secretSource' | 'disabled' | 'activated'
>

/** What the state store holds of a device's presence, and who holds the connection. */
export interface PresenceRecord
  extends Pick<
    DeviceState,
    'online' | 'clientId' | 'clientParams' | 'connectCount' | 'lastConnectedAt' | 'lastDisconnectedAt'
  > {
  /** The connection (or sub-device session) token. */
  token: string
  /** The node holding the connection. */
  node: string
  /** For a sub-device's session, its gateway. */
  gateway: DeviceIdentity | undefined
}

export function recordFields(state: DeviceState): StoredDevice {
  const { productKey, deviceName, deviceSecret, secretSource, disabled, activated } = state
  return { productKey, deviceName, deviceSecret, secretSource, disabled, activated }
}

export function presenceFields(
  state: DeviceState,
  holder: { token: string; node: string; gateway: DeviceIdentity | undefined },
): PresenceRecord {
  const { online, clientId, clientParams, connectCount, lastConnectedAt, lastDisconnectedAt } = state
  return {
    online,
    clientId,
    clientParams,
    connectCount,
    lastConnectedAt,
    lastDisconnectedAt,
    ...holder,
  }
}

/** Applies a stored record; a field JSON left out (undefined) is cleared. */
export function assignRecord(state: DeviceState, stored: StoredDevice): void {
  state.deviceSecret = stored.deviceSecret
  state.secretSource = stored.secretSource
  state.disabled = stored.disabled
  state.activated = stored.activated
}

/** Applies a stored presence. */
export function assignPresence(state: DeviceState, stored: PresenceRecord): void {
  state.online = stored.online
  state.clientId = stored.clientId
  state.clientParams = { ...stored.clientParams }
  state.connectCount = stored.connectCount
  state.lastConnectedAt = stored.lastConnectedAt
  state.lastDisconnectedAt = stored.lastDisconnectedAt
}
