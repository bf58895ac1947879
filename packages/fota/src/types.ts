import type { LinkkitError, RequestOptions } from '@linkkit/core'
import type { ActivateOptions, BootResult, BootState, StorageCapacity } from './persistence/boot-types.js'

/**
 * The digest method of a firmware image or configuration file (MD5 or SHA-256). The wire spellings
 * `Md5`/`MD5`/`SHA256`/`Sha256` all map here (`parseDigestMethod`). Offers carry it in a field named
 * `signMethod`, the wire's name; it is not core's `SignMethod`, the HMAC of the MQTT password.
 */
export type DigestMethod = 'Md5' | 'SHA256'

/** One file of a firmware offer (docs/protocol.md §3.3). */
export interface FirmwareFile {
  /** File name for multi-file offers; undefined for a single-file offer. */
  name?: string
  /** Size in bytes. */
  size: number
  /** Where to fetch it; a pre-signed URL whose query is never logged. */
  url: string
  /** Digest method of `digest`. */
  signMethod: DigestMethod
  /** Lowercase hex digest per signMethod. */
  digest: string
  /** Lowercase hex MD5 when the cloud sent one (it does for 3.x compatibility even with SHA256). */
  md5?: string
}

/** An upgrade the cloud offers (push on /ota/device/upgrade or a firmware/get reply). */
export interface FirmwareOffer {
  /** The target version. */
  version: string
  /** Image size in bytes (of the first file of a multi-file offer). */
  size: number
  /** Where to fetch the image (the first file of a multi-file offer); its query is never logged. */
  url: string
  /** Digest method of `digest`: `Md5` or `SHA256`, whatever the wire spelling. */
  signMethod: DigestMethod
  /** Lowercase hex digest the image must match. */
  digest: string
  /** Lowercase hex MD5, when the cloud sent one (`IOT_OTAG_MD5SUM`). */
  md5?: string
  /** Module name; undefined for the default module (the whole device firmware). */
  module?: string
  /** The package's `extData` (batch tags, `_package_udi`…). */
  extData?: Record<string, unknown>
  /** A differential package, to be applied on top of the running version. */
  isDiff?: boolean
  /** Multi-file offers: each file; `url`/`size`/`digest` above mirror the first one. */
  files?: FirmwareFile[]
}

/** A remote configuration file offered by `thing.config.push` or a `thing.config.get` reply (docs/protocol.md §2.3). */
export interface ConfigOffer {
  /** The configuration's id (`IOT_OTAG_COTA_CONFIG_ID`). */
  configId: string
  /** File size in bytes (`configSize`). */
  size: number
  /** Where to fetch the file; its query is a credential and is never logged. */
  url: string
  /** Digest method of `digest`, whatever the wire spelling (`Sha256`, `Md5`…). */
  signMethod: DigestMethod
  /** Lowercase hex digest per signMethod (the offer's `sign`). */
  digest: string
  /** How the configuration is delivered; `file` in practice. */
  getType: string
}

/** What a persistence adapter is told about the image it is about to receive. */
export interface FirmwareImage {
  /** Target version. */
  version: string
  /** Size in bytes; `write` receives exactly this many. */
  size: number
  /** Digest method of `digest`. */
  signMethod: DigestMethod
  /** Lowercase hex digest the committed bytes match. */
  digest: string
  /** Module; undefined for the default module. */
  module?: string
  /** File name within a multi-file offer. */
  name?: string
  /**
   * Every file of a multi-file offer, in download order (this one among them, by `name`);
   * undefined for a single-file offer. It arrives with the first `start`, so an adapter can refuse
   * an offer it cannot hold whole (more files than it stores, too many bytes) before any byte is
   * fetched, and can tell the last file, whose `stop({ ok: true })` commits the whole offer.
   */
  files?: ReadonlyArray<OfferFileEntry>
  /**
   * The offer's security version (`extData.securityVersion`), when it carried one. Adapters with
   * trial boots keep it with the image and raise their security counter to it on `confirm()`.
   */
  securityVersion?: number
}

/** One file of a multi-file offer, as {@link FirmwareImage.files} lists it. */
export interface OfferFileEntry {
  /** File name, unique within the offer. */
  readonly name: string
  /** Size in bytes. */
  readonly size: number
}

/** How a download ended, as `stop` is told: verified (`ok: true`) or failed with the reason. */
export type PersistenceOutcome =
  | {
      /** The size and digest were verified: commit the image. */
      ok: true
    }
  | {
      /** The download failed. */
      ok: false
      /** Why it failed. */
      error: LinkkitError
      /**
       * `true`: interrupted (an `AbortSignal`, `close()`, a network failure past the retry budget).
       * The bytes written so far are sound: keep them, so the next download of the same image
       * fetches only the rest. `false`: refused (digest or size mismatch, a bad signature, a
       * failed write): discard them. Either way nothing becomes the active image.
       */
      resumable: boolean
    }

/**
 * Where downloaded firmware goes (HAL_Firmware_Persistence_Start/Write/Stop). `write` receives the
 * bytes strictly in file order; `stop` is called exactly once on every exit path, with `ok: true`
 * only after the digest and size were verified. A failed outcome must never become the active image.
 */
export interface FirmwarePersistence {
  /**
   * Prepare the staging area (HAL_Firmware_Persistence_Start). `offset` > 0 when resuming: the
   * bytes before it are already held, and `offset` is at most what `resumeOffset` answered.
   * A failure should throw a `LinkkitError` with code `ERR_PERSISTENCE`.
   */
  start(image: FirmwareImage, offset: number): Promise<void> | void
  /**
   * Store `chunk` at `offset` (always the previous offset plus the previous chunk length). The
   * chunk may be empty (the C SDK calls Write with length 0) and its buffer may be reused by the
   * caller once the call settles, so keep a copy if it is not stored at once. A failure, or an
   * offset that does not continue the bytes held, throws `ERR_PERSISTENCE_WRITE`.
   */
  write(chunk: Uint8Array, offset: number): Promise<void> | void
  /**
   * Finish: commit the verified image (`ok: true`; for a multi-file offer, the whole offer once
   * its last file is verified), keep the bytes so far (`ok: false, resumable: true`) or discard
   * them (`ok: false, resumable: false`).
   */
  stop(outcome: PersistenceOutcome): Promise<void> | void
  /**
   * Bytes already held for this image (a previous download that was interrupted, or a process
   * that crashed), so only the rest is fetched; 0 when the held bytes belong to another image or
   * nothing is held.
   */
  resumeOffset?(image: FirmwareImage): Promise<number> | number
  /**
   * Optional: the bytes already held, for re-hashing before a resume. Adapters that implement
   * `resumeOffset` with a non-zero answer must implement this too, so the digest covers the whole image.
   */
  readBack?(image: FirmwareImage, length: number): AsyncIterable<Uint8Array>
  /**
   * Optional, trial boots (with `boot`, `bootState`, `confirm`, `rollbackReported`): makes the
   * committed image run at the next boot, on trial for `confirmWithinBoots` boots (and
   * `confirmWithinMs` from its first boot, when given and the adapter keeps a deadline). Throws
   * `ERR_PERSISTENCE` when no committed image waits. Returns that image.
   */
  activate?(options?: ActivateOptions): Promise<FirmwareImage> | FirmwareImage
  /**
   * Optional, trial boots: the bootloader's step, once per start before the image runs. It
   * counts a boot of the image on trial and rolls back when its boots are spent unconfirmed.
   */
  boot?(): Promise<BootResult>
  /** Optional, trial boots: what runs, whether it is on trial, an unreported rollback, the security counter. No side effects. */
  bootState?(): Promise<BootState> | BootState
  /**
   * Optional, trial boots: keeps the running trial image for good (the previous one may go) and
   * raises the security counter to its security version. Does nothing when no trial runs.
   */
  confirm?(): Promise<void> | void
  /**
   * Optional, trial boots with a deadline: gives the running trial image up now, as a boot past
   * its deadline would (the next boot runs the confirmed image, `bootState()` reports the
   * rollback). A device calls it when `confirmWithinMs` runs out while the image runs. Does
   * nothing when no trial runs.
   */
  rollBack?(): Promise<void> | void
  /** Optional, trial boots: the device told the platform about the rollback in `bootState()`; forget it. */
  rollbackReported?(): Promise<void> | void
  /** Optional: room for images, read by the `enoughRoom` policy. */
  capacity?(): Promise<StorageCapacity> | StorageCapacity
}

/**
 * Options of the OTA queries (`request`, `requestConfig`): a timeout, a cancel signal, and the
 * request's QoS (default the session's `alinkQos`, 0) and offline behaviour (queued while reconnecting).
 */
export type FotaRequestOptions = Pick<RequestOptions, 'timeoutMs' | 'signal' | 'qos' | 'queueOffline'>
