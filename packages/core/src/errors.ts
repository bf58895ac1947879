/**
 * Every stable error code linkkit can raise, with a one-line meaning. `docs/errors.md` documents
 * each one and a test keeps the two in agreement. Codes are never reused once retired.
 */
export const ErrorCodes = {
  // options and input
  /** Fix the option the message names; nothing was sent. */
  ERR_INVALID_OPTIONS: 'An option passed to linkkit is missing or invalid.',
  /** Leave out `/`, `#`, `+` and control characters, and keep within the length limit. */
  ERR_INVALID_TOPIC_VALUE:
    'A value placed into a topic is empty, too long or contains / # + or a control character.',
  /** Fix the argument the message names. */
  ERR_INVALID_ARGUMENT: 'An argument to a linkkit call has the wrong type or value.',
  /** Report it, with the message and what led to it. */
  ERR_INTERNAL: 'A bug inside linkkit or its emulator; the message says where. Please report it.',
  // emulator control API
  /** Send `Authorization: Bearer <token>` with the token the emulator printed (`LINKKIT_CONTROL_TOKEN`). */
  ERR_CONTROL_UNAUTHORIZED:
    "The emulator's control API refused a request without its control token or with a wrong one.",
  /** Put the file below the directory given as `allowedFirmwareDir`, or upload it as `dataBase64`. */
  ERR_PATH_NOT_ALLOWED:
    'The emulator refused to read a file: reading by path is off, or the path leaves the allowed directory or is not a regular file.',
  /** Check that Redis runs at `redisUrl` and that this host may reach it. */
  ERR_STATE_STORE: "The emulator could not reach the Redis server that holds its platform's shared state.",
  // connection
  /** Check the device triple, the sign method and the clock. Not retried. */
  ERR_CONNACK_BAD_CREDENTIALS: 'The broker refused the CONNECT: bad username or password (signature).',
  /** Check the device exists and is enabled. Not retried. */
  ERR_CONNACK_NOT_AUTHORIZED:
    'The broker refused the CONNECT: the device is unknown, disabled or not authorized.',
  /** `details.returnCode` has the CONNACK code; 3 is also a keepalive outside 30–1200 s. */
  ERR_CONNACK_REFUSED:
    'The broker refused the CONNECT for another reason (protocol, identifier, server unavailable).',
  /** Check the broker is reachable and speaks MQTT 3.1.1 (and TLS for `mqtts://`). */
  ERR_CONNECT_TIMEOUT: 'No CONNACK arrived within the connect timeout.',
  /** `details.errno` says why (e.g. `ECONNREFUSED`, a certificate error). */
  ERR_CONNECTION: 'The transport to the broker failed (DNS, TCP, TLS).',
  /** Connect first; requests and QoS 1 publishes wait in the offline queue while reconnecting, plain QoS 0 publishes do not. */
  ERR_NOT_CONNECTED: 'The call needs a live connection and the device is not connected.',
  /** Open a new object; `close()` itself is idempotent. */
  ERR_CLOSED: 'The object was closed; no further calls are accepted.',
  /** Subscribe only to the device's own topics. */
  ERR_SUBSCRIBE_FAILED: 'The broker refused a SUBSCRIBE (SUBACK failure).',
  /** QoS 1 publishes are queued and resent after the reconnect. */
  ERR_PUBLISH_FAILED: 'A publish could not be delivered to the broker.',
  /** Raise `offlineQueue.maxSize` / `maxBytes`, or publish less while offline. */
  ERR_OFFLINE_QUEUE_FULL:
    'The offline queue is full; the oldest or newest message was dropped per the policy.',
  // request / reply
  /** Raise `requestTimeoutMs`, or post with `ack: 0` where no reply comes (a plain broker). */
  ERR_REQUEST_TIMEOUT: 'No reply arrived for a request within its timeout.',
  /** The cancellation you asked for. */
  ERR_ABORTED: 'The operation was cancelled through its AbortSignal.',
  /** `replyCode` and `details` carry the reply (docs/protocol.md §2.4 lists the codes). */
  ERR_REPLY: 'The cloud replied with a non-200 code; `replyCode` carries it.',
  /** Emitted as an `error` event; the cloud is answered 460 when possible. */
  ERR_MALFORMED_PAYLOAD: 'An inbound message is not valid JSON or lacks the fields the protocol requires.',
  // dynamic registration
  /** Check the product secret and that the product allows dynamic registration. */
  ERR_DYNREG_FAILED: 'Dynamic registration did not return a device secret.',
  // thing model
  /** `details.path` and `details.rule` point at the fault. */
  ERR_TSL_INVALID: 'The thing model (TSL) document is malformed.',
  /** `details` is a `TslValidationDetails` with the platform's 63xx code. */
  ERR_TSL_VALIDATION:
    'A value does not satisfy its thing-model definition; `details` names the identifier and rule.',
  /** `details.platformCode` is 6320 (property), 6300 (event or service) or 6304 (param). */
  ERR_TSL_UNKNOWN_IDENTIFIER: 'The identifier is not defined in the thing model.',
  /** Emitted when a handler throws or times out (the cloud gets 400); also the `ServiceError` base. */
  ERR_SERVICE: 'A service or property-set handler failed; the reply carries its code.',
  /** Register a handler with `onService`; the cloud was answered 6300. */
  ERR_SERVICE_NOT_FOUND: 'No handler is registered for the invoked service.',
  /** `replyCode` is the notice's code. */
  ERR_CLOUD_ERROR: 'The cloud sent an error notice on /ext/error.',
  // FOTA and COTA
  /** `details.field` names the field; the offer is reported as step -1 and not downloaded. */
  ERR_OFFER_INVALID: 'A firmware or config offer lacks required fields or has invalid ones.',
  /** Serve https, or set `allowHttp` for a trusted local server. Reported as step -2. */
  ERR_HTTP_NOT_ALLOWED: 'A plain http:// firmware URL was refused (set allowHttp to accept it).',
  /** `httpStatus` has the status; 4xx is not retried. Reported as step -2. */
  ERR_DOWNLOAD_HTTP_STATUS: 'The firmware server answered with an unexpected HTTP status.',
  /** Resets, truncations and 5xx are retried `retry.limit` times in a row first. Reported as step -2. */
  ERR_DOWNLOAD_FAILED: 'The firmware download failed after the retry budget was spent.',
  /** Raise `idleTimeoutMs` on slow links. Reported as step -2. */
  ERR_DOWNLOAD_TIMEOUT: 'The firmware server stalled past the idle timeout.',
  /** Not retried; lower `minBytesPerSecond` (or widen `rateWindowMs`) for very slow links. Reported as step -2. */
  ERR_DOWNLOAD_TOO_SLOW: 'The firmware server sent fewer bytes per second than the minimum rate.',
  /** Raise `deadlineMs` for huge images on slow links. Reported as step -2. */
  ERR_DOWNLOAD_DEADLINE: 'The firmware download did not finish within its overall deadline.',
  /** The served file differs from the package. Reported as step -3. */
  ERR_SIZE_MISMATCH: 'The firmware image is shorter or longer than the offer says.',
  /** Nothing is committed. Reported as step -3. */
  ERR_DIGEST_MISMATCH: 'The firmware image digest does not match the offer.',
  /** Throw it from `write` for a failed or non-contiguous write. Reported as step -4. */
  ERR_PERSISTENCE_WRITE: 'The persistence adapter failed to store a chunk.',
  /** Throw it from `start` or a failing commit. Reported as step -4. */
  ERR_PERSISTENCE: 'The persistence adapter failed to start, stop or activate.',
  /** Follow the sequence: wait for `isFetching()`, then fetch until `isFetchFinish()`. */
  ERR_OTA_STATE: 'The OTA call is not valid in the current state.',
  /** Wait for the running download of the module, or cancel it. */
  ERR_OTA_BUSY: 'An OTA download is already in progress for this module.',
  /** Declare it in `firmware.modules` (or pass a persistence to `download`). Reported as step -1. */
  ERR_MODULE_UNDECLARED: 'A firmware offer names a module the device did not declare; nothing was written.',
  /** `details.reason` says which: no signature, a malformed one, or none for a file. Reported as step -3; nothing is fetched. */
  ERR_SIGNATURE_MISSING: 'Trusted keys are configured and the firmware offer carries no usable signature.',
  /** `details.reason` says why: an unknown key id, a wrong algorithm, or a signature that does not verify. Reported as step -3. */
  ERR_SIGNATURE_INVALID:
    'The firmware signature does not verify with the trusted key it names, or names no trusted key.',
  /** `cause` says why (the thread could not start, threw, or ran out of memory). Reported as step -1; the bytes are kept for a resume. */
  ERR_DIGEST_WORKER:
    "The worker thread computing a signed MD5 offer's SHA-256 digest failed; nothing was committed.",
  /** `details.securityVersion` and `details.minimum`. Reported as step -1, before any byte is fetched. */
  ERR_ROLLBACK_REFUSED: "The offer's security version is below the device's minimum (anti-rollback).",
  /** `details.policy` names the policy (e.g. the retry budget is spent). Reported as step -1. */
  ERR_POLICY_REFUSED: 'An update policy refused the offer for good; deferrals are not errors.',
  /** The deferred download rejects; a newer offer, if any, arrives as a `fota` event. */
  ERR_OFFER_WITHDRAWN: 'A deferred offer is no longer offered by the platform, or a newer offer replaced it.',
  /** Open the flash file again (a reboot). Reported as step -4. */
  ERR_FLASH_POWER_CUT: 'A simulated power cut interrupted the flash (FlashSimPersistence fault injection).',
  /** Provision the flash with `FlashSimPersistence.provision()`. */
  ERR_FLASH_NO_VALID_IMAGE: 'The simulated flash holds no bootable image.',
  // gateway
  /** Split the message; `SubDeviceLimits` has the limits. */
  ERR_SUBDEVICE_LIMIT: 'Too many sub-devices in one batch or pack message.',
  /** `await subDevice.connect()` first; the platform answers 520 for a lost session. */
  ERR_SUBDEVICE_NOT_LOGGED_IN: 'The sub-device is not logged in through its gateway.',
} as const

/** One of the codes in `ErrorCodes`. */
export type LinkkitErrorCode = keyof typeof ErrorCodes

/** Context of a `LinkkitError`. */
export interface LinkkitErrorOptions {
  /** The underlying error. */
  cause?: unknown
  /** The numeric code of a non-200 cloud reply. */
  replyCode?: number
  /** The MQTT topic involved. */
  topic?: string
  /** The HTTP status of a firmware or registration response. */
  httpStatus?: number
  /** Structured context, e.g. `{ identifier, rule }` for thing-model validation. */
  details?: Record<string, unknown>
}

/** The one error type linkkit raises. Tell errors apart by `code`, never by message. */
export class LinkkitError extends Error {
  /** Always `'LinkkitError'`. */
  override readonly name = 'LinkkitError'
  /** The stable code: tell errors apart by it, never by message. */
  readonly code: LinkkitErrorCode
  /** The numeric code of a non-200 cloud reply (`ERR_REPLY`, `ERR_SERVICE`, `ERR_CLOUD_ERROR`). */
  readonly replyCode: number | undefined
  /** The MQTT topic involved, when there is one. */
  readonly topic: string | undefined
  /** The HTTP status, for download and registration failures. */
  readonly httpStatus: number | undefined
  /** Structured context, e.g. `{ identifier, rule, platformCode }` for thing-model validation. */
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

/** Whether `value` is a `LinkkitError` (with `code`, when given); narrows its type. */
export function isLinkkitError(value: unknown, code?: LinkkitErrorCode): value is LinkkitError {
  return value instanceof LinkkitError && (code === undefined || value.code === code)
}

/** Wraps any thrown value into a LinkkitError, keeping LinkkitErrors as they are. */
export function toLinkkitError(value: unknown, code: LinkkitErrorCode, message?: string): LinkkitError {
  if (value instanceof LinkkitError) return value
  const text = message ?? (value instanceof Error ? value.message : String(value))
  return new LinkkitError(code, text, { cause: value })
}
