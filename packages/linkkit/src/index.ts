import { Device } from './device.js'
import type { LinkkitOptions } from './options.js'

export {
  type ConnectionOptions,
  ErrorCodes,
  isLinkkitError,
  LinkkitError,
  type LinkkitErrorCode,
  registerDevice,
} from '@linkkit/core'
export * from '@linkkit/fota'
export { loadThingModel, parseThingModel, ServiceError, type ThingModel } from '@linkkit/thing-model'
export { Device } from './device.js'
export type { DeviceEvents } from './events.js'
export type { FirmwareOptions, LinkkitOptions } from './options.js'

/** The entry point: `linkkit.open(options)` creates a device (no I/O yet); `connect()` brings it online. */
export const linkkit = Object.freeze({
  /** IOT_Linkkit_Open: validates options and creates the device's local resources. */
  open(options: LinkkitOptions): Device {
    return new Device(options)
  },
})

export default linkkit
