/**
 * The package devices import: `linkkit.open()` and `Device`, with the errors, persistence
 * adapters, OTA basic API, thing model and gateway types a device meets. Each name is re-exported
 * from the package that defines it (`@linkkit/core`, `@linkkit/thing-model`, `@linkkit/fota`,
 * `@linkkit/gateway`); what is not here is internal to those. Guides: `docs/`.
 *
 * @packageDocumentation
 * @module @linkkit/sdk
 */
import { Device } from './device.js'
import type { LinkkitOptions } from './options.js'

export {
  type AlinkReply,
  type ConnectionOptions,
  type ConnectionState,
  ErrorCodes,
  isLinkkitError,
  LINKKIT_WARNING,
  LISTENER_THREW,
  LinkkitError,
  type LinkkitErrorCode,
  type LoggerOption,
  type Payload,
  type PublishOptions,
  type RegisteredDevice,
  type RequestOptions,
  type Session,
  type SignMethod,
  type TlsOptions,
} from '@linkkit/core'
export {
  type ActivateOptions,
  type AllowWhenOptions,
  allowWhen,
  type BootClock,
  type BootResult,
  type BootState,
  type ConfigOffer,
  type DigestMethod,
  type EnoughRoomOptions,
  enoughRoom,
  FilePersistence,
  type FilePersistenceOptions,
  type FirmwareFile,
  type FirmwareImage,
  type FirmwareOffer,
  type FirmwarePersistence,
  type FirmwareTrust,
  type FlashSimOptions,
  FlashSimPersistence,
  type FotaClient,
  type FotaClock,
  type FotaDeferral,
  type FotaDownloadOptions,
  type FotaOptions,
  type FotaProgress,
  type FotaResult,
  type FotaRollback,
  isResumable,
  type MaintenanceWindowOptions,
  MemoryPersistence,
  type MemoryPersistenceOptions,
  type ModuleFirmware,
  maintenanceWindow,
  type OfferFileEntry,
  OtaProgress,
  OtaSession,
  type OtaSessionOptions,
  OtaState,
  type PersistenceOutcome,
  type PolicyContext,
  type PolicyStage,
  type PolicyVerdict,
  type RetryBudgetOptions,
  ROLLED_BACK_DESC,
  retryBudget,
  type SignatureAlgorithm,
  type StorageCapacity,
  type TrialState,
  type UpdatePolicy,
} from '@linkkit/fota'
export {
  type CommonDeviceEvents,
  type GatewayPack,
  type OfflineReason,
  type SubDevice,
  type SubDeviceEvents,
  SubDeviceLimits,
  type SubDeviceOptions,
  type SubDevicePack,
  type SubDeviceState,
  type SubDevices,
  type SubDevicesEvents,
} from '@linkkit/gateway'
export {
  type HandlerInfo,
  loadThingModel,
  type PostOptions,
  type PropertyGetHandler,
  type PropertySetEvent,
  type PropertySetHandler,
  parseThingModel,
  ServiceError,
  type ServiceEvent,
  type ServiceHandler,
  type ServiceInfo,
  type ThingClient,
  type ThingEvent,
  type ThingModel,
  type ThingModelSource,
  type ThingParam,
  type ThingProperty,
  type ThingService,
  type TslDocument,
  type TslSpec,
} from '@linkkit/thing-model'
export { Device } from './device.js'
export type { DeviceEvents } from './events.js'
export type { LinkkitOptions } from './options.js'

/** The entry point: `linkkit.open(options)` creates a device (no I/O yet); `connect()` brings it online. */
export const linkkit = Object.freeze({
  /** IOT_Linkkit_Open: validates options and creates the device's local resources. */
  open(options: LinkkitOptions): Device {
    return new Device(options)
  },
})

export default linkkit
