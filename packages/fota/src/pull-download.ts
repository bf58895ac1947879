import type { Hash } from 'node:crypto'
import { type LinkkitError, toLinkkitError } from '@linkkit/core'
import { createDigestHash } from './digest-method.js'
import { type DownloadOptions, downloadFirmware, type FirmwareSource } from './download/index.js'

/**
 * Turns the push-style downloader into the C SDK's pull style (IOT_OTA_FetchYield): the caller asks
 * for up to `buffer.length` bytes at a time; the download waits (backpressure) until the caller has
 * taken what arrived. A failed download leaves `fetched` where it was, and the next `read` resumes
 * from there with Range, re-using the running hash.
 */
export class PullDownload {
  readonly #source: FirmwareSource
  readonly #options: DownloadOptions
  readonly #hash: Hash
  #chunks: Uint8Array[] = []
  #fetched = 0
  #running: AbortController | undefined
  #error: LinkkitError | undefined
  #drained: (() => void) | undefined
  #wake: (() => void) | undefined

  constructor(source: FirmwareSource, options: DownloadOptions) {
    this.#source = source
    this.#options = options
    this.#hash = createDigestHash(source.signMethod)
  }

  /** Bytes handed to the caller so far. */
  get fetched(): number {
    return this.#fetched
  }

  /** True once every byte was handed out. */
  get finished(): boolean {
    return this.#fetched >= this.#source.size
  }

  /** Lowercase hex digest of everything handed out; call once, after `finished`. */
  digest(): string {
    return this.#hash.copy().digest('hex')
  }

  /**
   * Copies up to `buffer.length` bytes into `buffer`. Resolves with the count, 0 when nothing
   * arrived within `timeoutMs`, and rejects with the download's LinkkitError when it failed.
   */
  async read(buffer: Uint8Array, timeoutMs: number): Promise<number> {
    if (this.finished) return 0
    if (this.#chunks.length === 0) {
      if (this.#error) {
        const error = this.#error
        this.#error = undefined
        throw error
      }
      this.#ensureRunning()
      await this.#waitForData(timeoutMs)
      if (this.#chunks.length === 0) {
        if (this.#error) {
          const error = this.#error
          this.#error = undefined
          throw error
        }
        return 0
      }
    }
    let n = 0
    while (n < buffer.length && this.#chunks.length > 0) {
      const head = this.#chunks[0]!
      const take = Math.min(head.byteLength, buffer.length - n)
      const part = head.subarray(0, take)
      buffer.set(part, n)
      this.#hash.update(part)
      n += take
      if (take === head.byteLength) this.#chunks.shift()
      else this.#chunks[0] = head.subarray(take)
    }
    this.#fetched += n
    if (this.#chunks.length === 0) this.#drained?.()
    return n
  }

  #waitForData(timeoutMs: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, timeoutMs)
      function done() {
        clearTimeout(timer)
        resolve()
      }
      this.#wake = done
    }).finally(() => {
      this.#wake = undefined
    })
  }

  #ensureRunning(): void {
    if (this.#running) return
    const abort = new AbortController()
    this.#running = abort
    const outer = this.#options.signal
    outer?.addEventListener('abort', () => abort.abort(outer.reason), { once: true })
    const startOffset = this.#fetched
    downloadFirmware(
      this.#source,
      async (chunk) => {
        this.#chunks.push(chunk)
        this.#wake?.()
        if (this.#chunks.length > 0) await new Promise<void>((resolve) => (this.#drained = resolve))
      },
      {
        ...this.#options,
        signal: abort.signal,
        startOffset,
        ...(startOffset > 0 ? { initialHash: this.#hash.copy() } : {}),
      },
    )
      .catch((error: unknown) => {
        // The digest is judged by the caller's own check (IOT_OTAG_CHECK_FIRMWARE), on the bytes it took.
        const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
        if (err.code !== 'ERR_DIGEST_MISMATCH' && !abort.signal.aborted) this.#error = err
      })
      .finally(() => {
        if (this.#running === abort) this.#running = undefined
        this.#wake?.()
      })
  }

  /** Stops any transfer in progress. */
  cancel(): void {
    this.#running?.abort()
    this.#running = undefined
    this.#drained?.()
    this.#chunks = []
  }
}
