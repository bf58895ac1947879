import { LinkkitError } from '@linkkit/core'
import { OtaProgress } from './progress.js'

/**
 * The progress step a failure is reported with (docs/protocol.md §3.5): -4 when persistence failed,
 * -3 when the image does not match the offer or its signature, -2 when it could not be fetched, -1 otherwise.
 */
export function failureStep(error: LinkkitError): number {
  switch (error.code) {
    case 'ERR_PERSISTENCE_WRITE':
    case 'ERR_PERSISTENCE':
    case 'ERR_FLASH_POWER_CUT':
      return OtaProgress.BurnFailed
    case 'ERR_DIGEST_MISMATCH':
    case 'ERR_SIZE_MISMATCH':
    case 'ERR_SIGNATURE_MISSING':
    case 'ERR_SIGNATURE_INVALID':
      return OtaProgress.CheckFailed
    case 'ERR_DOWNLOAD_FAILED':
    case 'ERR_DOWNLOAD_HTTP_STATUS':
    case 'ERR_DOWNLOAD_TIMEOUT':
    case 'ERR_DOWNLOAD_TOO_SLOW':
    case 'ERR_DOWNLOAD_DEADLINE':
    case 'ERR_HTTP_NOT_ALLOWED':
      return OtaProgress.FetchFailed
    default:
      return OtaProgress.GeneralFailed
  }
}

/**
 * Codes that end a download by interruption, not by a fault of the bytes: the bytes written so far
 * came from the offered file, in order, and stay sound. Anything else (a digest, size or
 * signature refusal, a failed write, a code this list does not know) discards them.
 */
const interruptions: ReadonlySet<string> = new Set([
  'ERR_ABORTED', // the caller's AbortSignal
  'ERR_CLOSED', // device.close() / FotaClient.close()
  'ERR_DOWNLOAD_FAILED', // transport failures past the retry budget
  'ERR_DOWNLOAD_TIMEOUT', // a stall past the idle timeout
  'ERR_DOWNLOAD_HTTP_STATUS', // e.g. a signed URL that expired (403): a new offer brings a new one
  'ERR_DOWNLOAD_TOO_SLOW', // a trickle below the minimum rate: what arrived is sound
  'ERR_DOWNLOAD_DEADLINE', // the overall deadline passed: what arrived is sound
  'ERR_DIGEST_WORKER', // the signature's digest thread failed: the bytes written are sound
])

/**
 * Whether the bytes held when `error` ended a download are sound (`stop({ ok: false, resumable })`):
 * true for interruptions (abort, close, network failures past the retry budget, an HTTP status),
 * false for refusals (digest or size mismatch, bad signature) and for the adapter's own failures.
 */
export function isResumable(error: LinkkitError): boolean {
  return interruptions.has(error.code)
}

/** An abort whose reason is `ERR_CLOSED` (the FOTA client or device was closed) is that closure. */
export function closedOrSelf(error: LinkkitError): LinkkitError {
  if (
    error.code !== 'ERR_ABORTED' ||
    !(error.cause instanceof LinkkitError) ||
    error.cause.code !== 'ERR_CLOSED'
  )
    return error
  return new LinkkitError('ERR_CLOSED', 'the download stopped: the device was closed', { cause: error })
}

/** Any failure of `write` is a burn failure (-4); the adapter's own reason stays in the message and `cause`. */
export function persistenceError(error: unknown): LinkkitError {
  if (
    error instanceof LinkkitError &&
    (error.code === 'ERR_PERSISTENCE_WRITE' || error.code === 'ERR_FLASH_POWER_CUT')
  ) {
    return error
  }
  const reason = error instanceof Error ? error.message : String(error)
  return new LinkkitError('ERR_PERSISTENCE_WRITE', `persistence write failed: ${reason}`, { cause: error })
}
