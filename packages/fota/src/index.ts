/**
 * Firmware over the air: offers, the streaming downloader with resume and verification, progress,
 * the basic (`OtaSession`) and advanced (`FotaClient`) APIs, remote configuration and the
 * `FirmwarePersistence` adapters.
 *
 * The index names every export: what is not here (the OTA channel both APIs share, the progress
 * reporter, the download runner, the pull adapter behind `fetchYield`) is internal and may change.
 *
 * @packageDocumentation
 * @module @linkkit/fota
 */

export { type FetchConfigOptions, fetchConfig, parseConfigOffer } from './cota.js'
export { type FotaRollback, ROLLED_BACK_DESC } from './device-boot.js'
export { parseDigestMethod } from './digest-method.js'
export {
  type DownloadOptions,
  type DownloadResult,
  type DownloadRetryOptions,
  type DownloadTlsOptions,
  downloadFirmware,
  type FirmwareSink,
  type FirmwareSource,
} from './download/index.js'
export { isResumable } from './failure.js'
export {
  FotaClient,
  type FotaDeferral,
  type FotaDownloadOptions,
  type FotaEvents,
  type FotaOptions,
  type ModuleFirmware,
} from './fota-client.js'
export { parseOfferData, parseUpgradePush } from './offer.js'
export {
  OtaSession,
  type OtaSessionEvents,
  type OtaSessionOptions,
  OtaState,
  type OtaStateName,
  type OtaType,
} from './ota-session.js'
export type { DownloadTuning, FotaProgress, FotaResult } from './perform.js'
export type {
  ActivateOptions,
  BootClock,
  BootResult,
  BootState,
  StorageCapacity,
  TrialState,
} from './persistence/boot-types.js'
export { FilePersistence, type FilePersistenceOptions } from './persistence/file.js'
export {
  type FlashSimBoot,
  type FlashSimOptions,
  FlashSimPersistence,
  type FlashSimProvisionOptions,
  type FlashSimState,
  type FlashWear,
  type PowerCutAtOperation,
  type PowerCutDetails,
  type SlotInfo,
  type SlotName,
  type SlotStatus,
} from './persistence/flash-sim.js'
export {
  MEMORY_PERSISTENCE_MAX_BYTES,
  MemoryPersistence,
  type MemoryPersistenceOptions,
} from './persistence/memory.js'
export type { FotaClock } from './policy/clock.js'
export {
  type AllowWhenOptions,
  allowWhen,
  type EnoughRoomOptions,
  enoughRoom,
  type MaintenanceWindowOptions,
  maintenanceWindow,
  type RetryBudgetOptions,
  retryBudget,
} from './policy/policies.js'
export type { PolicyContext, PolicyStage, PolicyVerdict, UpdatePolicy } from './policy/policy.js'
export { OtaProgress, type ProgressPolicy } from './progress.js'
export type { FirmwareTrust, SignatureAlgorithm } from './trust/trust-keys.js'
export type {
  ConfigOffer,
  DigestMethod,
  FirmwareFile,
  FirmwareImage,
  FirmwareOffer,
  FirmwarePersistence,
  FotaRequestOptions,
  OfferFileEntry,
  PersistenceOutcome,
} from './types.js'
