import { LinkkitError, WireCodes } from '@linkkit/core'

/**
 * The codes a device answers cloud requests with. docs/protocol.md §2.4 lists the device-side ones:
 * "`200` success, `400` request error (internal), `460` request parameter error, `429` too many
 * requests, `100000–110000` device-defined"; TSL violations are answered with the platform's 63xx
 * code of the violated rule (the thing model's `details.platformCode`).
 */
export const DeviceReplyCodes = {
  /** The request was handled. */
  success: WireCodes.success,
  /** A handler threw something other than a `ServiceError`, or did not answer within `replyTimeoutMs`. */
  internalError: WireCodes.requestError,
  /** More than `maxConcurrentRequests` cloud requests were being handled. */
  tooManyRequests: WireCodes.tooManyRequests,
  /** The request is malformed: params missing, of the wrong JSON type, too large or too deep. */
  invalidParams: WireCodes.invalidParams,
  /**
   * 6300 "method missing or not exist": the service is not in the thing model, has no handler, or a
   * legacy RRPC request carries no `thing.service.<id>` method.
   */
  methodNotExist: WireCodes.methodNotFound,
} as const

/** Smallest and largest device-defined reply code (docs/protocol.md §2.4). */
export const DEVICE_CODE_MIN = 100_000
/** Largest device-defined reply code (docs/protocol.md §2.4). */
export const DEVICE_CODE_MAX = 110_000

/**
 * Thrown by a service, property-set, property-get or raw handler to answer the cloud with a
 * chosen code instead of 200: a device-defined code (100000–110000) or a platform code (400–99999,
 * e.g. 460 or 6304). Other throws are answered with 400 and reported as `error` events; a
 * `ServiceError` is a deliberate answer and is only logged.
 */
export class ServiceError extends LinkkitError {
  constructor(replyCode: number, message?: string, options: { cause?: unknown } = {}) {
    if (!Number.isInteger(replyCode) || replyCode < 400 || replyCode > DEVICE_CODE_MAX) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `a ServiceError code must be an integer in 400–${DEVICE_CODE_MAX}, got ${String(replyCode)}`,
      )
    }
    super('ERR_SERVICE', message ?? `handler answered ${replyCode}`, { replyCode, cause: options.cause })
  }
}
