/**
 * The package devices import: `linkkit.open()` and `Device`, sub-devices behind a gateway, and
 * re-exports of the errors, OTA and persistence APIs of the packages below. Guides: `docs/`.
 *
 * @packageDocumentation
 * @module linkkit
 */
import { Device } from './device.js'
import type { LinkkitOptions } from './options.js'

export {
  type ConnectionOptions,
  ErrorCodes,
  isLinkkitError,
  LINKKIT_WARNING,
  LISTENER_THREW,
  LinkkitError,
  type LinkkitErrorCode,
  registerDevice,
} from '@linkkit/core'
export * from '@linkkit/fota'
export { loadThingModel, parseThingModel, ServiceError, type ThingModel } from '@linkkit/thing-model'
export type { CliStream } from './cli/io.js'
export { type ProgressBar, progressBar } from './cli/progress-bar.js'
export { Device } from './device.js'
export type { DeviceEvents } from './events.js'
export { SubDeviceLimits } from './gateway/limits.js'
export type { GatewayPack, PackEntry, SubDevicePack } from './gateway/pack.js'
export { SubDeviceConnection } from './gateway/sub-connection.js'
export { SubDevice } from './gateway/sub-device.js'
export { SubDevices } from './gateway/sub-devices.js'
export type {
  OfflineReason,
  PermitJoin,
  SubDeviceEvents,
  SubDeviceNotice,
  SubDeviceOptions,
  SubDeviceState,
  SubDevicesEvents,
  SubDevicesOptions,
  TopoChange,
  TopoChangeKind,
} from './gateway/types.js'
export type { FirmwareOptions, LinkkitOptions } from './options.js'

/** The entry point: `linkkit.open(options)` creates a device (no I/O yet); `connect()` brings it online. */
export const linkkit = Object.freeze({
  /** IOT_Linkkit_Open: validates options and creates the device's local resources. */
  open(options: LinkkitOptions): Device {
    return new Device(options)
  },
})

export default linkkit
