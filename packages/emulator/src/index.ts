/**
 * A local IoT Platform for development and tests: a broker with device authentication and ACL,
 * Alink replies, OTA jobs, a firmware server with fault injection, gateways and a control API.
 *
 * @packageDocumentation
 * @module @linkkit/emulator
 */
export { deviceNamespace, filterWithin, systemNamespace, TopicAcl } from './acl.js'
export { AlinkCodes } from './alink/envelope.js'
export type {
  AlinkInvalidInfo,
  CloudErrorParams,
  ConfigFile,
  ConfigPushOptions,
  ConfigPushParams,
  ConfigPushSent,
  DesiredProperty,
  DeviceReply,
  DeviceThingState,
  DownlinkOptions,
  InvokeServiceOptions,
  RawUpHandler,
  RawUplink,
  ReportedEvent,
  ReportedProperty,
  ThingModelInput,
} from './alink/types.js'
export { type EmulatorClock, systemClock } from './clock.js'
export { CONTROL_PREFIX } from './control/control-api.js'
export type { ControlDeviceSummary, ControlDeviceView } from './control/control-views.js'
export { Emulator, type EmulatorFaults } from './emulator.js'
export { FirmwareFaults } from './firmware-faults.js'
export {
  FirmwareServer,
  type FirmwareServerListenOptions,
  type FirmwareServerOptions,
} from './firmware-server.js'
export type { FirmwareFileInfo, FirmwareFileStats } from './firmware-store.js'
export { GATEWAY_MESSAGES, GatewayCodes, type GatewayLimits } from './gateway/codes.js'
export { GatewayAcl } from './gateway/gateway-acl.js'
export { type GatewayHost, GatewayService } from './gateway/gateway-service.js'
export { type SubDeviceSession, Topology } from './gateway/topology.js'
export type { TopologyRecord } from './gateway/types.js'
export { type HttpHandler, HttpRouter } from './http-router.js'
export { type OtaHost, OtaService, type OtaServiceOptions } from './ota/ota-service.js'
export type {
  OtaRollout,
  RolloutCounts,
  RolloutOptions,
  RolloutStatus,
} from './ota/rollout-types.js'
export { type RolloutHost, Rollouts } from './ota/rollouts.js'
export {
  type AddFirmwareOptions,
  DEFAULT_MODULE,
  DEFAULT_UPGRADE_TIMEOUT_MS,
  type DeviceOtaSnapshot,
  type Firmware,
  type FirmwareFaultControls,
  type FirmwareFileRecord,
  type OtaDeviceRef,
  type OtaEvents,
  type OtaInformEntry,
  type OtaJob,
  type OtaJobEnd,
  type OtaJobStatus,
  type OtaProgressEntry,
  type OtaSignMethod,
  type PushOptions,
} from './ota/types.js'
export { RegisterCode } from './registration.js'
export { REGISTER_PATH } from './registration-http.js'
export type { DeviceState } from './registry.js'
export type {
  ClientSubscribedInfo,
  ConnectRefusedInfo,
  DeviceConnectionInfo,
  DeviceIdentity,
  DeviceReadyInfo,
  DeviceRecord,
  DeviceRegisteredInfo,
  DeviceSnapshot,
  EmulatorEvents,
  EmulatorOptions,
  EmulatorPublishOptions,
  ProductRecord,
  UplinkContext,
  UplinkHandler,
} from './types.js'
