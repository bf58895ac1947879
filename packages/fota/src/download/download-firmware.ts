import { setTimeout as delay } from 'node:timers/promises'
import { createLogger, LinkkitError, redactUrl } from '@linkkit/core'
import { createDigestHash } from '../digest-method.js'
import { type AttemptContext, runAttempt } from './attempt.js'
import type { BodyRing } from './body-ring.js'
import { downloadSignal, stopError } from './limits.js'
import {
  type DownloadOptions,
  type DownloadResult,
  type FirmwareSink,
  type FirmwareSource,
  type ResolvedDownload,
  resolveDownload,
} from './options.js'
import { retryDelayMs } from './retry-delay.js'

/**
 * Streams one firmware file into `sink`, chunk by chunk in file order, awaiting the sink before
 * reading on (the image is never held whole), and checks the size and the digest of the whole image.
 *
 * Transient failures (5xx, connection reset, premature close, a server silent for `idleTimeoutMs`)
 * are resumed with `Range` from the bytes the sink accepted, with exponential backoff, until
 * `retry.limit` failures in a row; then it rejects with ERR_DOWNLOAD_FAILED whose `cause` is the last
 * failure (ERR_DOWNLOAD_TIMEOUT for a stall). It rejects at once with ERR_HTTP_NOT_ALLOWED (an
 * `http:` URL without `allowHttp`, before any request), ERR_DOWNLOAD_HTTP_STATUS (a 4xx, with
 * `httpStatus`), ERR_SIZE_MISMATCH (the server's file is longer or shorter than `size`; no extra byte
 * reaches the sink), ERR_DIGEST_MISMATCH (`details.expected`/`actual`), ERR_DOWNLOAD_TOO_SLOW (a
 * window of `rateWindowMs` spent waiting brought less than `minBytesPerSecond`), ERR_DOWNLOAD_DEADLINE
 * (`deadlineMs` passed, retries and backoff included) or ERR_ABORTED; an error the sink or
 * `onProgress` throws is rethrown unchanged, without retry. URLs in errors and logs never carry their
 * query string (signed URLs hold credentials there).
 */
export function downloadFirmware(
  file: FirmwareSource,
  sink: FirmwareSink,
  options: DownloadOptions = {},
): Promise<DownloadResult> {
  return downloadInto(file, sink, options, undefined)
}

/**
 * `downloadFirmware`, with the ring every HTTP exchange of the download reads into given by the
 * caller (internal: a signed MD5 offer's digest worker hashes the sink's chunks in place, in that
 * ring's shared memory); `undefined` gives each exchange its own.
 */
export async function downloadInto(
  file: FirmwareSource,
  sink: FirmwareSink,
  options: DownloadOptions,
  ring: BodyRing | undefined,
): Promise<DownloadResult> {
  const cfg = resolveDownload(file, options)
  const where = redactUrl(cfg.url.href)
  if (cfg.url.protocol === 'http:' && !cfg.allowHttp) {
    throw new LinkkitError(
      'ERR_HTTP_NOT_ALLOWED',
      `refused plain http firmware URL ${where} (set allowHttp to accept it)`,
    )
  }
  if (options.signal?.aborted) throw stopError(options.signal)
  const limits = downloadSignal(cfg.deadlineMs, where, options.signal)
  try {
    return await download(file, cfg, where, sink, options, limits.signal, ring)
  } finally {
    limits.dispose()
  }
}

async function download(
  file: FirmwareSource,
  cfg: Readonly<ResolvedDownload>,
  where: string,
  sink: FirmwareSink,
  options: DownloadOptions,
  signal: AbortSignal,
  ring: BodyRing | undefined,
): Promise<DownloadResult> {
  const log = createLogger(options.logger, 'fota-download')
  const ctx: AttemptContext = {
    cfg,
    where,
    sink,
    hash: cfg.initialHash ?? createDigestHash(cfg.method),
    state: { received: cfg.startOffset, requests: 0, bytesReceived: 0 },
    signal,
    onProgress: options.onProgress,
    log,
    ring,
  }
  const { state } = ctx
  let failures = 0
  while (state.received < cfg.size) {
    const heldBefore = state.received
    const outcome = await runAttempt(ctx)
    // Like the C SDK's retry window (docs/protocol.md §4.4): any byte of progress restarts the count.
    if (state.received > heldBefore) failures = 0
    if (outcome.ok) continue
    failures += 1
    if (failures > cfg.retry.limit) {
      throw new LinkkitError(
        'ERR_DOWNLOAD_FAILED',
        `firmware download from ${where} failed ${failures} times in a row: ${outcome.error.message}`,
        {
          cause: outcome.error,
          httpStatus: outcome.error.httpStatus,
          details: { bytes: state.received, size: cfg.size, requests: state.requests },
        },
      )
    }
    const delayMs = retryDelayMs(failures, cfg.retry)
    log.debug(
      { code: outcome.error.code, failures, delayMs, bytes: state.received },
      'resuming firmware download',
    )
    await delay(delayMs, undefined, { signal }).catch(() => {
      throw stopError(signal)
    })
  }
  const actual = ctx.hash.digest('hex')
  if (actual !== cfg.digest) {
    throw new LinkkitError(
      'ERR_DIGEST_MISMATCH',
      `firmware from ${where} does not match its ${file.signMethod} digest`,
      {
        details: { expected: cfg.digest, actual, signMethod: file.signMethod },
      },
    )
  }
  log.debug({ bytes: state.received, requests: state.requests }, 'firmware downloaded and verified')
  return {
    bytes: state.received,
    digest: actual,
    requests: state.requests,
    bytesReceived: state.bytesReceived,
  }
}
