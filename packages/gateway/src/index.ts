/**
 * Sub-devices behind a gateway (docs/protocol.md §5): `new SubDevices(gatewaySession)` opens them,
 * batches their registration, topology adds and logins, routes the gateway's inbound messages to
 * each, and gives every `SubDevice` the thing-model and OTA surface of a `Device`. The facade
 * (`@linkkit/sdk`) offers it as `device.subdevices`.
 *
 * @packageDocumentation
 * @module @linkkit/gateway
 */
export { SubDeviceLimits } from './limits.js'
export type { GatewayPack, PackEntry, SubDevicePack } from './pack.js'
export { SubDevice } from './sub-device.js'
export { SubDevices } from './sub-devices.js'
export type {
  CommonDeviceEvents,
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
} from './types.js'
