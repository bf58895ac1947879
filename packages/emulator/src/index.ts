export { deviceNamespace, filterWithin, systemNamespace, TopicAcl } from './acl.js'
export { Emulator, type EmulatorFaults } from './emulator.js'
export { type HttpHandler, HttpRouter } from './http-router.js'
export { RegisterCode } from './registration.js'
export { REGISTER_PATH } from './registration-http.js'
export type { DeviceState } from './registry.js'
export type {
  ConnectRefusedInfo,
  DeviceConnectionInfo,
  DeviceIdentity,
  DeviceRecord,
  DeviceRegisteredInfo,
  DeviceSnapshot,
  EmulatorEvents,
  EmulatorOptions,
  ProductRecord,
  PublishOptions,
  UplinkContext,
  UplinkHandler,
} from './types.js'
