import type { Hash } from 'node:crypto'
import {
  checkOption,
  integerOption,
  LinkkitError,
  type LoggerOption,
  numberOption,
  type OptionRule,
  refusedOption,
} from '@linkkit/core'
import { digestHexLength, parseDigestMethod } from '../digest-method.js'
import type { DigestMethod, FirmwareFile } from '../types.js'

/** What the downloader needs from an offer (or one file of a multi-file offer). */
export type FirmwareSource = Pick<FirmwareFile, 'url' | 'size' | 'signMethod' | 'digest'>

/**
 * Receives the image in file order. `offset` is where `chunk` starts; the next call's offset is
 * always this offset plus this chunk's length. The downloader awaits it before reading more.
 * `chunk` is a view of memory the downloader reuses once the call settles (it reads the network
 * into one ring, docs/performance.md "FOTA download"): copy what you keep past that point.
 */
export type FirmwareSink = (chunk: Uint8Array, offset: number) => Promise<void> | void

/** How a download retries failed attempts. */
export interface DownloadRetryOptions {
  /**
   * Failed attempts in a row before giving up. An attempt that passed at least one byte to the sink
   * resets the count, as the C SDK resets its retry window after any successful read (docs/protocol.md §4.4).
   * @default 5
   */
  limit: number
  /** Delay before the first retry; it doubles per failure in a row, with jitter. @default 250 */
  baseDelayMs: number
  /** Upper bound of one retry delay. @default 10000 */
  maxDelayMs: number
}

/** TLS settings of firmware downloads. */
export interface DownloadTlsOptions {
  /** Extra trusted CA certificate(s) in PEM, e.g. a private OSS endpoint's. */
  ca?: string | Buffer | Array<string | Buffer>
  /** Certificate verification stays on unless this is set to `false` by name. @default true */
  rejectUnauthorized?: boolean
}

/** Options of `downloadFirmware`. */
export interface DownloadOptions {
  /** Accept plain `http:` URLs (the emulator, a LAN mirror). @default false */
  allowHttp?: boolean
  /** TLS settings of the download. */
  tls?: DownloadTlsOptions
  /** Bytes of the image the caller already holds; the download continues from here. @default 0 */
  startOffset?: number
  /** Required when `startOffset` > 0: a hash of the offer's algorithm already fed with the held bytes. It is consumed. */
  initialHash?: Hash
  /**
   * When set, fetch the image as consecutive ranged GETs `bytes=a-b` of this many bytes (the C SDK's
   * buffer length); otherwise one streaming GET `bytes=<fetched>-`, re-issued from the bytes already
   * received after a failure.
   */
  chunkSizeBytes?: number
  /** An attempt that sees no byte (or no response head) for this long is aborted and resumed. @default 30000 */
  idleTimeoutMs?: number
  /**
   * The whole download, retries and backoff included, must finish within this; otherwise it rejects
   * with ERR_DOWNLOAD_DEADLINE (step -2). `Infinity` turns it off. The default is the longest
   * upgrade timeout the platform lets a job set (1440 minutes): a download still running after
   * that belongs to a job the cloud has given up on.
   * @default 86400000 (24 h)
   */
  deadlineMs?: number
  /**
   * Slowest accepted transfer, in bytes per second of waiting for the network (time the sink takes
   * does not count), judged over each `rateWindowMs` of waiting. Below it the download rejects with
   * ERR_DOWNLOAD_TOO_SLOW (step -2), without retry: a server that trickles bytes to keep the idle
   * timeout happy would trickle again. The default is far below the slowest links firmware goes over
   * (GPRS and NB-IoT carry several KB/s) and far above a trickle. 0 turns it off.
   * @default 1024
   */
  minBytesPerSecond?: number
  /** How much waiting for the network `minBytesPerSecond` is judged over; a longer window forgives longer dips. @default 60000 */
  rateWindowMs?: number
  /** Retry budget and backoff; an attempt that stored bytes resets the count. */
  retry?: Partial<DownloadRetryOptions>
  /** Cancels the download at any point (request, body, backoff); it then rejects with ERR_ABORTED. */
  signal?: AbortSignal
  /** Called after each chunk the sink accepted, with the bytes held so far and the image size. */
  onProgress?: (bytes: number, total: number) => void
  /** A pino logger or a level; the downloader logs at debug level. Silent by default. */
  logger?: LoggerOption
}

/** What `downloadFirmware` resolves with. */
export interface DownloadResult {
  /** Bytes of the image now held by the sink (the image size). */
  bytes: number
  /** Lowercase hex digest of the whole image; it matched the offer. */
  digest: string
  /** HTTP requests this call made. */
  requests: number
  /** Body bytes read from the network by this call, including any skipped or discarded. */
  bytesReceived: number
}

/** 5 failed attempts in a row; 250 ms doubling up to 10 s between them. */
export const DEFAULT_DOWNLOAD_RETRY: Readonly<DownloadRetryOptions> = Object.freeze({
  limit: 5,
  baseDelayMs: 250,
  maxDelayMs: 10_000,
})

/** 30 s without a byte aborts an attempt. */
export const DEFAULT_IDLE_TIMEOUT_MS = 30_000

/** 24 h for a whole download: the longest upgrade timeout a platform job can set (1440 minutes). */
export const DEFAULT_DEADLINE_MS = 24 * 60 * 60 * 1000

/** 1 KiB/s: below the slowest cellular links firmware travels over, far above a trickle. */
export const DEFAULT_MIN_BYTES_PER_SECOND = 1024

/** The rate floor is judged over each minute spent waiting for the network. */
export const DEFAULT_RATE_WINDOW_MS = 60_000

/** The longest delay a Node timer takes; longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1

/** Options after validation and defaults; a new frozen object, the caller's is never written. */
export interface ResolvedDownload {
  url: URL
  size: number
  method: DigestMethod
  digest: string
  allowHttp: boolean
  tls: Readonly<DownloadTlsOptions>
  startOffset: number
  initialHash: Hash | undefined
  chunkSizeBytes: number | undefined
  idleTimeoutMs: number
  deadlineMs: number
  minBytesPerSecond: number
  rateWindowMs: number
  retry: Readonly<DownloadRetryOptions>
}

export function resolveDownload(file: FirmwareSource, options: DownloadOptions): Readonly<ResolvedDownload> {
  const method =
    parseDigestMethod(file.signMethod) ?? offerError(`unknown signMethod ${JSON.stringify(file.signMethod)}`)
  const hexLength = digestHexLength(method)
  if (!Number.isSafeInteger(file.size) || file.size < 0) offerError('size must be a non-negative integer')
  const digest = typeof file.digest === 'string' ? file.digest.toLowerCase() : ''
  if (!new RegExp(`^[0-9a-f]{${hexLength}}$`).test(digest)) {
    offerError(`digest must be ${hexLength} hex characters for ${file.signMethod}`)
  }
  const url = URL.canParse(file.url) ? new URL(file.url) : offerError('url is not a valid URL')
  if (url.protocol !== 'https:' && url.protocol !== 'http:') offerError('url must use https: (or http:)')
  const startOffset = integerOption(options.startOffset, 'startOffset', 0, { min: 0, max: file.size })
  if (startOffset > 0 && options.initialHash === undefined) {
    throw refusedOption(
      'initialHash',
      'is required when startOffset > 0, so the digest covers the held bytes',
    )
  }
  const chunk = options.chunkSizeBytes
  if (chunk !== undefined) integerOption(chunk, 'chunkSizeBytes', 1)
  const idleTimeoutMs = checkOption(
    options.idleTimeoutMs,
    'idleTimeoutMs',
    POSITIVE_MS,
    DEFAULT_IDLE_TIMEOUT_MS,
  )
  const deadlineMs = checkOption(options.deadlineMs, 'deadlineMs', DEADLINE, DEFAULT_DEADLINE_MS)
  const minBytesPerSecond = numberOption(
    options.minBytesPerSecond,
    'minBytesPerSecond',
    DEFAULT_MIN_BYTES_PER_SECOND,
    { max: Number.MAX_VALUE },
  )
  const rateWindowMs = checkOption(options.rateWindowMs, 'rateWindowMs', POSITIVE_MS, DEFAULT_RATE_WINDOW_MS)
  const retry = { ...DEFAULT_DOWNLOAD_RETRY, ...options.retry }
  integerOption(retry.limit, 'retry.limit', 0, { min: 0 })
  numberOption(retry.baseDelayMs, 'retry.baseDelayMs', 0, { max: MAX_TIMER_MS })
  numberOption(retry.maxDelayMs, 'retry.maxDelayMs', 0, { min: retry.baseDelayMs, max: MAX_TIMER_MS })
  return Object.freeze({
    url,
    size: file.size,
    method,
    digest,
    allowHttp: options.allowHttp === true,
    tls: Object.freeze({ ...options.tls }),
    startOffset,
    initialHash: options.initialHash,
    chunkSizeBytes: chunk,
    idleTimeoutMs,
    deadlineMs,
    minBytesPerSecond,
    rateWindowMs,
    retry: Object.freeze(retry),
  })
}

function offerError(message: string): never {
  throw new LinkkitError('ERR_OFFER_INVALID', `firmware file: ${message}`)
}

/** A number of milliseconds above 0 a timer can wait. */
const POSITIVE_MS: OptionRule<number> = {
  test: (v): v is number => typeof v === 'number' && v > 0 && v <= MAX_TIMER_MS,
  must: `a number > 0 and at most ${MAX_TIMER_MS}`,
}

/** `deadlineMs`: a timer's range, or `Infinity` for no deadline. */
const DEADLINE: OptionRule<number> = {
  test: (v): v is number =>
    typeof v === 'number' && ((v > 0 && v <= MAX_TIMER_MS) || v === Number.POSITIVE_INFINITY),
  must: `a number > 0 and at most ${MAX_TIMER_MS} (or Infinity)`,
}
