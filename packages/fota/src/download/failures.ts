import { detachedCause, LinkkitError } from '@linkkit/core'

/** Carries an error thrown by the caller's sink or progress callback past the network error handling. */
export class SinkFailure {
  constructor(readonly error: unknown) {}
}

/** The first LinkkitError in an error's cause chain (a refused redirect, possibly wrapped). */
export function findLinkkitError(error: unknown): LinkkitError | undefined {
  let current = error
  for (let depth = 0; depth < 4 && current instanceof Error; depth += 1) {
    if (current instanceof LinkkitError) return current
    current = current.cause
  }
  return undefined
}

/**
 * A retryable transport failure. The cause is core's detached stand-in (the redacted message and the
 * system code: ECONNRESET…), never the raw error, which may reference the request and its signed URL.
 */
export function transportError(error: unknown, where: string): LinkkitError {
  const cause = detachedCause(error)
  return new LinkkitError('ERR_DOWNLOAD_FAILED', `firmware download from ${where} failed: ${cause.message}`, {
    cause,
  })
}

/** TLS verification failures (self-signed, unknown issuer, expired, wrong host) do not heal on retry. */
export function isCertificateError(error: LinkkitError): boolean {
  const code = error.cause instanceof Error && 'code' in error.cause ? String(error.cause.code) : ''
  return /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(code)
}
