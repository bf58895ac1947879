import type { LinkkitError, RegisteredDevice } from '@linkkit/core'
import type { CommonDeviceEvents } from '@linkkit/gateway'

/**
 * Events of a `Device` (eventemitter3): those of every device (thing model, OTA, errors, raw
 * messages) and those of its own MQTT connection. Listen here: the device passes on what its
 * `connection`, `thing` and `fota` emit, so there is no need to listen to those. A listener that
 * throws is logged and cannot break the session.
 */
export interface DeviceEvents extends CommonDeviceEvents {
  /** Connected and subscribed; `reconnect` is true after an automatic reconnect. */
  connected: (info: { sessionPresent: boolean; reconnect: boolean }) => void
  /** The connection dropped; `error` is set when it will not come back (e.g. the platform refused the device). */
  disconnected: (info: { error?: LinkkitError }) => void
  /** A reconnect attempt is scheduled after `delayMs`. */
  reconnecting: (info: { attempt: number; delayMs: number }) => void
  /** Dynamic registration gave the device its secret (ITE_DYNREG_DEVICE_SECRET): store it. */
  registered: (device: RegisteredDevice) => void
}
