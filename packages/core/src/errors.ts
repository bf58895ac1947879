/**
 * Every stable error code linkkit can raise, with a one-line meaning. `docs/errors.md` documents
 * each one and a test keeps the two in agreement. Codes are never reused once retired.
 */
export const ErrorCodes = {
  // options and input
  ERR_INVALID_OPTIONS: 'An option passed to linkkit is missing or invalid.',
  ERR_INVALID_TOPIC_VALUE:
    'A value placed into a topic is empty, too long or contains / # + or a control character.',
  ERR_INVALID_ARGUMENT: 'An argument to a linkkit call has the wrong type or value.',
  ERR_INTERNAL: 'A bug inside linkkit or its emulator; the message says where. Please report it.',
  // connection
  ERR_CONNACK_BAD_CREDENTIALS: 'The broker refused the CONNECT: bad username or password (signature).',
  ERR_CONNACK_NOT_AUTHORIZED:
    'The broker refused the CONNECT: the device is unknown, disabled or not authorized.',
  ERR_CONNACK_REFUSED:
    'The broker refused the CONNECT for another reason (protocol, identifier, server unavailable).',
  ERR_CONNECT_TIMEOUT: 'No CONNACK arrived within the connect timeout.',
  ERR_CONNECTION: 'The transport to the broker failed (DNS, TCP, TLS).',
  ERR_NOT_CONNECTED: 'The call needs a live connection and the device is not connected.',
  ERR_CLOSED: 'The object was closed; no further calls are accepted.',
  ERR_SUBSCRIBE_FAILED: 'The broker refused a SUBSCRIBE (SUBACK failure).',
  ERR_PUBLISH_FAILED: 'A publish could not be delivered to the broker.',
  ERR_OFFLINE_QUEUE_FULL:
    'The offline queue is full; the oldest or newest message was dropped per the policy.',
  // request / reply
  ERR_REQUEST_TIMEOUT: 'No reply arrived for a request within its timeout.',
  ERR_ABORTED: 'The operation was cancelled through its AbortSignal.',
  ERR_REPLY: 'The cloud replied with a non-200 code; `replyCode` carries it.',
  ERR_MALFORMED_PAYLOAD: 'An inbound message is not valid JSON or lacks the fields the protocol requires.',
  // dynamic registration
  ERR_DYNREG_FAILED: 'Dynamic registration did not return a device secret.',
  // thing model
  ERR_TSL_INVALID: 'The thing model (TSL) document is malformed.',
  ERR_TSL_VALIDATION:
    'A value does not satisfy its thing-model definition; `details` names the identifier and rule.',
  ERR_TSL_UNKNOWN_IDENTIFIER: 'The identifier is not defined in the thing model.',
  ERR_SERVICE: 'A service or property-set handler failed; the reply carries its code.',
  ERR_SERVICE_NOT_FOUND: 'No handler is registered for the invoked service.',
  ERR_CLOUD_ERROR: 'The cloud sent an error notice on /ext/error.',
  // FOTA and COTA
  ERR_OFFER_INVALID: 'A firmware or config offer lacks required fields or has invalid ones.',
  ERR_HTTP_NOT_ALLOWED: 'A plain http:// firmware URL was refused (set allowHttp to accept it).',
  ERR_DOWNLOAD_HTTP_STATUS: 'The firmware server answered with an unexpected HTTP status.',
  ERR_DOWNLOAD_FAILED: 'The firmware download failed after the retry budget was spent.',
  ERR_DOWNLOAD_TIMEOUT: 'The firmware server stalled past the idle timeout.',
  ERR_SIZE_MISMATCH: 'The firmware image is shorter or longer than the offer says.',
  ERR_DIGEST_MISMATCH: 'The firmware image digest does not match the offer.',
  ERR_PERSISTENCE_WRITE: 'The persistence adapter failed to store a chunk.',
  ERR_PERSISTENCE: 'The persistence adapter failed to start, stop or activate.',
  ERR_OTA_STATE: 'The OTA call is not valid in the current state.',
  ERR_OTA_BUSY: 'An OTA download is already in progress for this module.',
  ERR_FLASH_POWER_CUT: 'A simulated power cut interrupted the flash (FlashSimPersistence fault injection).',
  ERR_FLASH_NO_VALID_IMAGE: 'The simulated flash holds no bootable image.',
  // gateway
  ERR_SUBDEVICE_LIMIT: 'Too many sub-devices in one batch or pack message.',
  ERR_SUBDEVICE_NOT_LOGGED_IN: 'The sub-device is not logged in through its gateway.',
} as const

export type LinkkitErrorCode = keyof typeof ErrorCodes

export interface LinkkitErrorOptions {
  cause?: unknown
  /** The numeric code of a non-200 cloud reply. */
  replyCode?: number
  topic?: string
  httpStatus?: number
  /** Structured context, e.g. `{ identifier, rule }` for thing-model validation. */
  details?: Record<string, unknown>
}

/** The one error type linkkit raises. Tell errors apart by `code`, never by message. */
export class LinkkitError extends Error {
  override readonly name = 'LinkkitError'
  readonly code: LinkkitErrorCode
  readonly replyCode: number | undefined
  readonly topic: string | undefined
  readonly httpStatus: number | undefined
  readonly details: Record<string, unknown> | undefined

  constructor(code: LinkkitErrorCode, message?: string, options: LinkkitErrorOptions = {}) {
    super(message ?? ErrorCodes[code], options.cause === undefined ? undefined : { cause: options.cause })
    this.code = code
    this.replyCode = options.replyCode
    this.topic = options.topic
    this.httpStatus = options.httpStatus
    this.details = options.details
  }
}

export function isLinkkitError(value: unknown, code?: LinkkitErrorCode): value is LinkkitError {
  return value instanceof LinkkitError && (code === undefined || value.code === code)
}

/** Wraps any thrown value into a LinkkitError, keeping LinkkitErrors as they are. */
export function toLinkkitError(value: unknown, code: LinkkitErrorCode, message?: string): LinkkitError {
  if (value instanceof LinkkitError) return value
  const text = message ?? (value instanceof Error ? value.message : String(value))
  return new LinkkitError(code, text, { cause: value })
}
