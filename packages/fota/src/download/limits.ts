import { LinkkitError } from '@linkkit/core'

/** The reason the downloader's own signal fires when its deadline passes (the caller's abort keeps its own). */
class LimitReached {
  constructor(readonly error: LinkkitError) {}
}

/** The error a fired download signal stands for: the deadline's, or ERR_ABORTED for the caller's abort. */
export function stopError(signal: AbortSignal): LinkkitError {
  if (signal.reason instanceof LimitReached) return signal.reason.error
  return new LinkkitError('ERR_ABORTED', 'firmware download aborted', { cause: signal.reason })
}

/**
 * One signal for the whole download that fires on the caller's abort or when `deadlineMs` has
 * passed, whichever comes first: every wait (response, body, backoff) already listens to it.
 */
export function downloadSignal(
  deadlineMs: number,
  where: string,
  caller: AbortSignal | undefined,
): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController()
  const onAbort = () => controller.abort(caller?.reason)
  if (caller?.aborted) onAbort()
  else caller?.addEventListener('abort', onAbort, { once: true })
  const timer = Number.isFinite(deadlineMs)
    ? setTimeout(() => {
        const error = new LinkkitError(
          'ERR_DOWNLOAD_DEADLINE',
          `firmware download from ${where} did not finish within ${deadlineMs} ms`,
          { details: { deadlineMs } },
        )
        controller.abort(new LimitReached(error))
      }, deadlineMs)
    : undefined
  timer?.unref()
  return {
    signal: controller.signal,
    dispose: () => {
      clearTimeout(timer)
      caller?.removeEventListener('abort', onAbort)
    },
  }
}

/**
 * The minimum rate, measured over the time spent waiting for the network only (never while the sink
 * writes): once a window's worth of waiting has passed, the bytes it brought must reach the floor.
 */
export class RateFloor {
  readonly #minBytesPerSecond: number
  readonly #windowMs: number
  #waitedMs = 0
  #bytes = 0

  constructor(minBytesPerSecond: number, windowMs: number) {
    this.#minBytesPerSecond = minBytesPerSecond
    this.#windowMs = windowMs
  }

  /** Adds one wait for the network and the bytes it brought; throws ERR_DOWNLOAD_TOO_SLOW below the floor. */
  record(waitedMs: number, bytes: number, where: string): void {
    if (this.#minBytesPerSecond === 0) return
    this.#waitedMs += waitedMs
    this.#bytes += bytes
    if (this.#waitedMs < this.#windowMs) return
    const bytesPerSecond = Math.floor((this.#bytes * 1000) / this.#waitedMs)
    if (bytesPerSecond < this.#minBytesPerSecond) {
      throw new LinkkitError(
        'ERR_DOWNLOAD_TOO_SLOW',
        `firmware server ${where} sent ${bytesPerSecond} bytes/s, below the ${this.#minBytesPerSecond} bytes/s minimum`,
        {
          details: {
            bytesPerSecond,
            minBytesPerSecond: this.#minBytesPerSecond,
            windowMs: Math.round(this.#waitedMs),
          },
        },
      )
    }
    this.#waitedMs = 0
    this.#bytes = 0
  }
}
