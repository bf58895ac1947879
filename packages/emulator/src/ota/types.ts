import type { KeyObject } from 'node:crypto'
import type { FirmwareFaults } from '../firmware-faults.js'
import type { OtaRollout, RolloutStatus } from './rollout-types.js'

/** Digest methods of an upgrade push; 4.x accepts exactly these spellings (docs/protocol.md §3.3). */
export type OtaSignMethod = 'Md5' | 'SHA256'

/** The module name the platform uses for the whole device firmware (`module` omitted on the wire). */
export const DEFAULT_MODULE = 'default'

/** Options of `emu.ota.addFirmware`. */
export interface AddFirmwareOptions {
  /** The product the firmware is for. */
  productKey: string
  /** Target version, 1–64 characters (docs/protocol.md §3.3). */
  version: string
  /** The image of a single-file firmware. Give either `data` or `files`. */
  data?: Uint8Array
  /** A multi-file firmware (4.x only, at most 20 files, docs/protocol.md §3.3). */
  files?: ReadonlyArray<{
    /** File name, unique within the firmware. */
    name: string
    /** The file's bytes. */
    data: Uint8Array
  }>
  /** @default 'SHA256' for a signed image (`signingKey`, or `extData.signature`): one digest serves the offer and the signature; else 'Md5' */
  signMethod?: OtaSignMethod
  /** @default 'default' (the whole device firmware) */
  module?: string
  /** File name in the URL of a single-file firmware. @default 'firmware.bin' */
  name?: string
  /** A differential package (`isDiff: 1` in the push). @default false */
  isDiff?: boolean
  /** Batch tags sent as `extData` (e.g. `{ _package_udi: '...' }`). */
  extData?: Record<string, unknown>
  /**
   * Signs every file, as a build pipeline would (docs/ota.md, "Trust"): a private Ed25519 or
   * ECDSA P-256 key (PEM or KeyObject). The signatures go into `extData` (`signature`, or
   * `fileSignatures` by file name for a multi-file package), with `signatureAlgorithm` and
   * `signatureKeyId`. Needs `keyId`.
   */
  signingKey?: KeyObject | string
  /** The key id devices know the signing key by (`extData.signatureKeyId`). */
  keyId?: string
  /** The anti-rollback counter of the package, sent as `extData.securityVersion`. */
  securityVersion?: number
}

/** One file of a firmware as the emulator serves it. Digests are lowercase hex. */
export interface FirmwareFileRecord {
  /** The file's id on the firmware server (`emu.ota.server.stats(fileId)`). */
  fileId: string
  /** File name in its URL. */
  name: string
  /** Size in bytes. */
  size: number
  /** Lowercase hex MD5. */
  md5: string
  /** Lowercase hex SHA-256. */
  sha256: string
  /** The digest per the firmware's sign method. */
  sign: string
  /** Short URL with a fake OSS-style `?Expires=..&Signature=..` query, which devices must never log. */
  url: string
}

/** A firmware package added with `emu.ota.addFirmware`. */
export interface Firmware {
  /** Firmware id, e.g. `fw-1`. */
  id: string
  /** The product it is for. */
  productKey: string
  /** Target version. */
  version: string
  /** `'default'` for the whole device firmware. */
  module: string
  /** Digest method sent in the push. */
  signMethod: OtaSignMethod
  /** A differential package. */
  isDiff: boolean
  /** Sent as `extData`. */
  extData: Record<string, unknown> | undefined
  /** True when added with `files` (pushed in the multi-file shape). */
  multiFile: boolean
  /** Every file (one for a single-file firmware). */
  files: FirmwareFileRecord[]
  /** `name`, `size`, `md5`, `sha256`, `sign` and `url` describe `files[0]` (the only file of a single-file firmware). */
  name: string
  /** Size of `files[0]`. */
  size: number
  /** MD5 of `files[0]`. */
  md5: string
  /** SHA-256 of `files[0]`. */
  sha256: string
  /** Digest of `files[0]` per the sign method. */
  sign: string
  /** URL of `files[0]`. */
  url: string
  /** Bytes of all files. */
  totalSize: number
}

/** Options of `emu.ota.push`. */
export interface PushOptions {
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** What to offer (from `addFirmware`). */
  firmware: Firmware
  /**
   * Only devices running this version of the module get the push: the job waits (pending) until
   * the device informs it. Needed for differential packages. @default any version
   */
  srcVersion?: string
  /**
   * The upgrade timeout: the job fails when the device has not informed the target version this
   * long after its first progress report. The platform's "device upgrade timeout" counts from
   * there too; a device that never reports progress keeps being offered the job instead.
   * At most 2147483647 (24.8 days). @default 1800000 (30 minutes)
   */
  timeoutMs?: number
}

/** The upgrade timeout of a job pushed without `timeoutMs`: 30 minutes. */
export const DEFAULT_UPGRADE_TIMEOUT_MS = 30 * 60 * 1000

/**
 * What ended a job that did not succeed: `device` a negative progress step (see `failure`);
 * `timeout` no target version within `timeoutMs` of the first progress; `version` the device
 * came back informing neither the source nor the target version; `cancel` `emu.ota.cancel`
 * (also the control API and `linkkit ota cancel`); `replaced` a newer push of the same module.
 */
export type OtaJobEnd = 'device' | 'timeout' | 'version' | 'cancel' | 'replaced'

/**
 * `pending`: not delivered yet (device offline, or waiting for `srcVersion`); `pushed`: offered at
 * least once; `upgrading`: the device reported a step ≥ 0; `failed`: a negative step, the upgrade
 * timeout, or an unexpected version informed; `succeeded`: the device informed the target version;
 * `canceled`: canceled, or replaced by a newer push. `endedBy` and `reason` say which.
 */
export type OtaJobStatus = 'pending' | 'pushed' | 'upgrading' | 'failed' | 'succeeded' | 'canceled'

/** One upgrade job: a firmware offered to one device (and module). */
export interface OtaJob {
  /** Job id, e.g. `job-1`. */
  id: string
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** The module (`default` for the whole device firmware). */
  module: string
  /** The firmware offered. */
  firmwareId: string
  /** Target version. */
  version: string
  /** The version the device must run first, if any. */
  srcVersion: string | undefined
  /** Where the job is. */
  status: OtaJobStatus
  /** Creation time, ms since the epoch. */
  createdAt: number
  /** Last change, ms since the epoch. */
  updatedAt: number
  /** How often the offer went out (pushes, re-pushes, firmware/get and request answers). */
  pushCount: number
  /** Last time the offer went out. */
  lastPushedAt: number | undefined
  /** The last valid progress step and its desc. */
  step: number | undefined
  /** The desc of that step. */
  desc: string | undefined
  /** For `failed`: the negative step and its desc. */
  failure:
    | {
        /** The negative step reported. */
        step: number
        /** Its desc. */
        desc: string
      }
    | undefined
  /** For `canceled`: the job that replaced this one. */
  replacedBy: string | undefined
  /** The upgrade timeout in milliseconds (`PushOptions.timeoutMs`). */
  timeoutMs: number
  /** For an `upgrading` job: when it times out, ms since the epoch (first progress + `timeoutMs`). */
  deadlineAt: number | undefined
  /**
   * The version the device ran before the upgrade: `srcVersion`, else the last one it informed
   * before it started (undefined when it informed none). Informing a version that is neither
   * this one nor the target fails an `upgrading` job.
   */
  sourceVersion: string | undefined
  /** What ended a `failed` or `canceled` job. */
  endedBy: OtaJobEnd | undefined
  /** Why a `failed` or `canceled` job ended, in words. */
  reason: string | undefined
}

/** One `/ota/device/progress` message as received. */
export interface OtaProgressEntry {
  /** Arrival time, ms since the epoch. */
  at: number
  /** The module it named (`default` when none). */
  module: string
  /** Whether the message was well-formed (a step in [-4, 100]). */
  valid: boolean
  /** The step, when valid. */
  step: number | undefined
  /** The desc, when valid. */
  desc: string | undefined
  /** Why an invalid entry was refused. */
  error: string | undefined
  /** The raw payload of an invalid entry (first 256 characters). */
  raw: string | undefined
  /** The job it counted for, if any. */
  jobId: string | undefined
}

/** One `/ota/device/inform` message as received. */
export interface OtaInformEntry {
  /** Arrival time, ms since the epoch. */
  at: number
  /** The module it named (`default` when none). */
  module: string
  /** Whether the message was well-formed. */
  valid: boolean
  /** The version informed, when valid. */
  version: string | undefined
  /** Why an invalid inform was refused. */
  error: string | undefined
  /** The raw payload of an invalid inform (first 256 characters). */
  raw: string | undefined
}

/** The OTA part of `emu.device(pk, dn)`. */
export interface DeviceOtaSnapshot {
  /** The device's upgrade jobs, oldest first. */
  jobs: OtaJob[]
  /** Every progress message, oldest first. */
  progress: OtaProgressEntry[]
  /** Every version inform, oldest first. */
  informs: OtaInformEntry[]
}

/** A device, by identity. */
export interface OtaDeviceRef {
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
}

/** Events of `emu.ota`. */
export interface OtaEvents {
  /** A job changed status. */
  'ota:job': [job: OtaJob, previous: OtaJobStatus | undefined]
  /** A progress message arrived (valid or not). */
  'ota:progress': [device: OtaDeviceRef, entry: OtaProgressEntry]
  /** A version inform arrived (valid or not). */
  'ota:inform': [device: OtaDeviceRef, entry: OtaInformEntry]
  /** An offer went out on `/ota/device/upgrade` (push, re-push or legacy request answer). */
  'ota:push': [job: OtaJob, topic: string, payload: string]
  /** A staged rollout changed (status, counts), here or on another node. */
  'ota:rollout': [rollout: OtaRollout, previous: RolloutStatus | undefined]
}

/**
 * `emu.faults.firmware`: the firmware server's global faults (every method chains), plus the
 * faults of one firmware's file.
 */
export type FirmwareFaultControls = FirmwareFaults & {
  /** Faults hitting only this firmware's file (`fileName` picks one file of a multi-file firmware). */
  for(firmware: Firmware, fileName?: string): FirmwareFaults
}
