import type { Hash } from 'node:crypto'
import { type LinkkitError, toLinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import { createDigestHash } from './digest-method.js'
import { downloadInto } from './download/download-firmware.js'
import type { DownloadOptions } from './download/index.js'
import { closedOrSelf, failureStep, isResumable, persistenceError } from './failure.js'
import { offerFiles } from './offer.js'
import type { ProgressReporter } from './progress.js'
import type { FileSignature } from './trust/offer-signature.js'
import { SignatureTap } from './trust/signature-tap.js'
import type { FirmwareFile, FirmwareImage, FirmwareOffer, FirmwarePersistence } from './types.js'

/** Downloader settings a FOTA download passes through. */
export type DownloadTuning = Pick<
  DownloadOptions,
  | 'allowHttp'
  | 'tls'
  | 'chunkSizeBytes'
  | 'idleTimeoutMs'
  | 'deadlineMs'
  | 'minBytesPerSecond'
  | 'rateWindowMs'
  | 'retry'
  | 'signal'
>

/** Local progress of a download, emitted as `fota:progress`. */
export interface FotaProgress {
  /** The offered version. */
  version: string
  /** The module, undefined for the default one. */
  module?: string
  /** File name within a multi-file offer. */
  file?: string
  /** Bytes held so far, over all files. */
  bytes: number
  /** Bytes of the whole offer. */
  total: number
  /** `bytes` as a percentage 0–100. */
  percent: number
}

/** What a verified download produced. */
export interface FotaResult {
  /** The version downloaded. */
  version: string
  /** The module, undefined for the default one. */
  module?: string
  /** Each file stored, in order, with its verified digest. */
  files: Array<{
    /** File name within a multi-file offer. */
    name?: string
    /** Size in bytes. */
    size: number
    /** Lowercase hex digest, verified. */
    digest: string
  }>
  /** Image bytes held at the end (all files). */
  bytes: number
  /** Bytes that were already held from an interrupted download and were not fetched again. */
  resumedBytes: number
  /** Body bytes read from the network. */
  bytesReceived: number
  /** HTTP requests made (more than one after resumes or with `chunkSizeBytes`). */
  requests: number
}

/** What `performFota` needs. */
export interface PerformContext {
  /** The offer to download. */
  offer: FirmwareOffer
  /** Where the files go. */
  persistence: FirmwarePersistence
  /** Publishes progress steps to the cloud. */
  reporter: ProgressReporter
  /** Local progress callback. */
  onProgress: (progress: FotaProgress) => void
  /** Downloader settings. */
  tuning: DownloadTuning
  /** Where to log. */
  logger: Logger
  /** With trusted keys: the signature of each file, in `offerFiles` order, checked after its digest. */
  signatures?: readonly FileSignature[]
  /** The offer's security version, passed to the adapter with each image. */
  securityVersion?: number
}

/**
 * Downloads every file of an offer into the persistence adapter, verifying each, reporting
 * progress to the cloud (the C SDK's dm_fota_perform_sync): `0` first, rate-limited percentages,
 * `100` once verified and stored, or the failure step with its reason. `persistence.stop` is called
 * exactly once per file on every path; only `ok: true` after the digest and size were verified.
 */
export async function performFota(ctx: PerformContext): Promise<FotaResult> {
  const { offer, reporter } = ctx
  const files = offerFiles(offer)
  const total = files.reduce((sum, f) => sum + f.size, 0)
  const result: FotaResult = {
    version: offer.version,
    files: [],
    bytes: 0,
    resumedBytes: 0,
    bytesReceived: 0,
    requests: 0,
  }
  if (offer.module !== undefined) result.module = offer.module
  reporter.reset()
  // Progress is never awaited here: a QoS1 report waits in the offline queue while MQTT is down,
  // and the download must not wait for the cloud (the C SDK publishes progress QoS0, never blocking).
  // Reports still go out in order: each publish is queued synchronously.
  void reporter.report(0, 'Enter in downloading state')
  try {
    for (const [index, file] of files.entries()) {
      const done = result.bytes
      const one = await fetchFile(ctx, file, ctx.signatures?.[index], (bytes) => {
        const percent = total === 0 ? 100 : Math.floor(((done + bytes) * 100) / total)
        // 100 is reported only once the image is verified and stored.
        reporter.percent(Math.min(percent, 99))
        const progress: FotaProgress = { version: offer.version, bytes: done + bytes, total, percent }
        if (offer.module !== undefined) progress.module = offer.module
        if (file.name !== undefined) progress.file = file.name
        ctx.onProgress(progress)
      })
      result.files.push(
        file.name === undefined
          ? { size: file.size, digest: one.digest }
          : { name: file.name, size: file.size, digest: one.digest },
      )
      result.bytes += file.size
      result.resumedBytes += one.resumedBytes
      result.bytesReceived += one.bytesReceived
      result.requests += one.requests
    }
  } catch (error) {
    const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
    // Stopped by close(): no failure is reported, so the platform's job stays in progress and its
    // offer comes again (a re-push or `request()`) when the device is back; the bytes were kept.
    if (err.code !== 'ERR_CLOSED') void reporter.report(failureStep(err), err.message.slice(0, 128))
    throw err
  }
  void reporter.report(100, 'verified')
  return result
}

function imageOf(
  offer: FirmwareOffer,
  file: FirmwareFile,
  securityVersion: number | undefined,
): FirmwareImage {
  const image: FirmwareImage = {
    version: offer.version,
    size: file.size,
    signMethod: file.signMethod,
    digest: file.digest,
  }
  if (securityVersion !== undefined) image.securityVersion = securityVersion
  if (offer.module !== undefined) image.module = offer.module
  if (file.name !== undefined) image.name = file.name
  // Every start of a multi-file offer names the whole offer, so the adapter can refuse it at the first.
  if (offer.files !== undefined && offer.files.length > 0) {
    image.files = Object.freeze(offer.files.map((f) => Object.freeze({ name: f.name ?? '', size: f.size })))
  }
  return image
}

/**
 * One file: resume point, `start`, the stream into `write`, the digest check (in the downloader),
 * then the signature check (a {@link SignatureTap} fed the same bytes), and only then `stop({ ok: true })`.
 */
async function fetchFile(
  ctx: PerformContext,
  file: FirmwareFile,
  signature: FileSignature | undefined,
  onBytes: (bytes: number) => void,
): Promise<{ digest: string; resumedBytes: number; bytesReceived: number; requests: number }> {
  const { persistence, logger } = ctx
  const image = imageOf(ctx.offer, file, ctx.securityVersion)
  const newTap = () => (signature === undefined ? undefined : new SignatureTap(file, signature))
  const { offset, hash, tap } = await resumePoint(persistence, image, logger, newTap)
  try {
    await persistence.start(image, offset)
  } catch (error) {
    const err = toLinkkitError(error, 'ERR_PERSISTENCE', 'persistence start failed')
    tap?.close()
    await stopQuietly(persistence, err, logger)
    throw err
  }
  let stopped = false
  try {
    // With the tap's SHA-256 on a worker, the download reads into the worker's ring (hashed in place).
    const downloaded = await downloadInto(
      file,
      async (chunk, at) => {
        await tap?.update(chunk)
        try {
          await persistence.write(chunk, at)
        } catch (error) {
          throw persistenceError(error)
        }
      },
      { ...ctx.tuning, startOffset: offset, initialHash: hash, onProgress: onBytes, logger },
      tap?.ring,
    )
    await tap?.verify(downloaded.digest)
    // stop is called once per exit path: a stop({ ok: true }) that throws must not be followed by stop({ ok: false }).
    stopped = true
    try {
      await persistence.stop({ ok: true })
    } catch (error) {
      throw toLinkkitError(error, 'ERR_PERSISTENCE', 'persistence failed to commit the verified image')
    }
    return {
      digest: downloaded.digest,
      resumedBytes: offset,
      bytesReceived: downloaded.bytesReceived,
      requests: downloaded.requests,
    }
  } catch (error) {
    const err = closedOrSelf(toLinkkitError(error, 'ERR_DOWNLOAD_FAILED'))
    tap?.close()
    if (!stopped) await stopQuietly(persistence, err, logger)
    throw err
  }
}

async function stopQuietly(
  persistence: FirmwarePersistence,
  error: LinkkitError,
  logger: Logger,
): Promise<void> {
  try {
    await persistence.stop({ ok: false, error, resumable: isResumable(error) })
  } catch (stopError) {
    logger.warn({ err: (stopError as Error).message }, 'persistence stop failed after an error')
  }
}

interface ResumePoint {
  offset: number
  hash: Hash | undefined
  tap: SignatureTap | undefined
}

/**
 * Where to resume: the adapter's held bytes, re-hashed (and fed to the signature tap), or 0 with
 * a fresh tap when it holds none or cannot read them back.
 */
async function resumePoint(
  persistence: FirmwarePersistence,
  image: FirmwareImage,
  logger: Logger,
  newTap: () => SignatureTap | undefined,
): Promise<ResumePoint> {
  const fresh = (): ResumePoint => ({ offset: 0, hash: undefined, tap: newTap() })
  if (!persistence.resumeOffset || !persistence.readBack) return fresh()
  let tap: SignatureTap | undefined
  try {
    const held = await persistence.resumeOffset(image)
    if (!Number.isSafeInteger(held) || held <= 0 || held > image.size) return fresh()
    const hash = createDigestHash(image.signMethod)
    tap = newTap()
    let read = 0
    for await (const chunk of persistence.readBack(image, held)) {
      hash.update(chunk)
      await tap?.update(chunk)
      read += chunk.byteLength
    }
    if (read !== held) {
      tap?.close()
      return fresh()
    }
    logger.info({ held, size: image.size }, 'resuming firmware download from held bytes')
    return { offset: held, hash, tap }
  } catch (error) {
    tap?.close()
    logger.warn({ err: (error as Error).message }, 'could not resume; starting over')
    return fresh()
  }
}
