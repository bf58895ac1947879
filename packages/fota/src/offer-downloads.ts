import { LinkkitError, toLinkkitError } from '@linkkit/core'
import type { Logger } from 'pino'
import { failureStep } from './failure.js'
import type { FotaDeferral, FotaDownloadOptions, FotaOptions } from './fota-options.js'
import { offerFiles } from './offer.js'
import type { OtaChannel } from './ota-channel.js'
import { type FotaProgress, type FotaResult, performFota } from './perform.js'
import { OfferAttempts, sameOffer } from './policy/attempts.js'
import type { PolicyContext, PolicyStage } from './policy/policy.js'
import type { Deferral, PolicyGate } from './policy/policy-gate.js'
import { OtaProgress, ProgressReporter } from './progress.js'
import type { Admission, OfferTrust } from './trust/offer-trust.js'
import type { FirmwareOffer, FirmwarePersistence } from './types.js'

/** What the downloads need from their `FotaClient`. */
export interface OfferDownloadsDeps {
  readonly channel: OtaChannel
  readonly options: FotaOptions
  readonly logger: Logger
  readonly trust: OfferTrust
  readonly gate: PolicyGate
  /** Aborted by the client's `close()`. */
  readonly closing: AbortSignal
  /** Local progress of a download (`fota:progress`). */
  progress(progress: FotaProgress): void
  /** A step waits for `firmware.policy` (`fota:deferred`). */
  deferred(deferral: FotaDeferral): void
  /** An offer that replaced a waiting one, taken as any other offer once the waiting one gave way. */
  replaced(offer: FirmwareOffer): void
  /** A failure to tell the application (`error`). */
  failed(error: LinkkitError): void
}

interface Waiting {
  offer: FirmwareOffer
  running: Promise<FotaResult>
  withdraw: AbortController
  deferred: boolean
}

/**
 * The downloads of a `FotaClient`, one per module at a time: the trust checks (security version,
 * signatures) and `firmware.policy` before any byte, then the stream, the digest and the
 * signature (`performFota`). A download waiting for the policy is joined by a re-push of the
 * same offer and withdrawn by another one.
 */
export class OfferDownloads {
  readonly #deps: OfferDownloadsDeps
  readonly #busy = new Set<string>()
  readonly #running = new Set<Promise<unknown>>()
  readonly #attempts = new OfferAttempts()
  /** Downloads waiting for `firmware.policy`, by module: a re-push of the same offer joins, another replaces. */
  readonly #waiting = new Map<string, Waiting>()
  /** What each module downloaded last, for the policy context of `activate()`. */
  readonly #downloaded = new Map<string, { version: string; sizeBytes: number }>()

  constructor(deps: OfferDownloadsDeps) {
    this.#deps = deps
  }

  /** Whether `module` downloads now (marked synchronously by `download()`). */
  busy(module: string): boolean {
    return this.#busy.has(module)
  }

  /** What `module` downloaded last. */
  lastDownloaded(module: string): { version: string; sizeBytes: number } | undefined {
    return this.#downloaded.get(module)
  }

  /** Downloads `offer` into `persistence` (see `FotaClient.download`). */
  async download(
    offer: FirmwareOffer,
    persistence: FirmwarePersistence,
    options: FotaDownloadOptions,
  ): Promise<FotaResult> {
    const module = offer.module ?? 'default'
    const waiting = this.#waiting.get(module)
    if (waiting?.deferred === true) {
      // A re-push of the offer that waits for the policy joins it (with the fresher URL); another offer replaces it.
      if (sameOffer(waiting.offer, offer)) {
        waiting.offer = offer
        return waiting.running
      }
      waiting.withdraw.abort(
        new LinkkitError(
          'ERR_OFFER_WITHDRAWN',
          `firmware ${waiting.offer.version} was replaced by ${offer.version}`,
        ),
      )
      await waiting.running.catch(() => undefined)
    }
    if (this.#busy.has(module))
      throw new LinkkitError('ERR_OTA_BUSY', `module ${module} is already downloading`)
    this.#busy.add(module)
    const withdraw = new AbortController()
    const running = this.#run(offer, persistence, options, withdraw)
    this.#waiting.set(module, { offer, running, withdraw, deferred: false })
    this.#running.add(running)
    try {
      return await running
    } finally {
      this.#running.delete(running)
      if (this.#waiting.get(module)?.running === running) this.#waiting.delete(module)
      this.#busy.delete(module)
    }
  }

  /**
   * An offer for a module the device did not declare: tells the platform (step -1 with the
   * reason) and the application (`error`); returns the error to throw.
   */
  async refuseUndeclared(offer: FirmwareOffer): Promise<LinkkitError> {
    const module = offer.module ?? 'default'
    const desc = `module ${module} is not declared on this device`.slice(0, 128)
    const error = new LinkkitError('ERR_MODULE_UNDECLARED', `firmware ${offer.version}: ${desc}`, {
      details: { module, version: offer.version },
    })
    this.#deps.logger.warn({ module, version: offer.version }, 'offer for an undeclared module refused')
    await this.#deps.channel.reportProgress(OtaProgress.GeneralFailed, desc, offer.module)
    this.#deps.failed(error)
    return error
  }

  /** Waits for every running download to settle (after `close()` aborted them). */
  async settle(): Promise<void> {
    await Promise.allSettled([...this.#running])
  }

  /**
   * One download. A refusal before the first byte is reported (step -1 or -3) and tells the
   * adapter `stop({ ok: false, resumable: false })`.
   */
  async #run(
    first: FirmwareOffer,
    persistence: FirmwarePersistence,
    options: FotaDownloadOptions,
    withdraw: AbortController,
  ): Promise<FotaResult> {
    const module = first.module ?? 'default'
    const { persistence: _p, signal: callerSignal, ...tuning } = options
    const signal = this.signal(callerSignal)
    const waitSignal = AbortSignal.any([signal, withdraw.signal])
    const { trust, gate, channel } = this.#deps
    let offer = first
    let admission: Admission
    try {
      admission = await trust.admit(offer, persistence)
      await gate.wait({
        context: () => {
          offer = this.#waiting.get(module)?.offer ?? offer
          return this.context('download', module, persistence, offer.version, totalBytes(offer), offer)
        },
        deferred: (d) => {
          const waiting = this.#waiting.get(module)
          if (waiting !== undefined) waiting.deferred = true
          this.deferred('download', offer.module, offer.version, d)
        },
        woke: async () => {
          offer = await this.#refresh(this.#waiting.get(module)?.offer ?? offer)
          admission = await trust.admit(offer, persistence)
        },
        signal: waitSignal,
      })
    } catch (error) {
      const cancelled = callerSignal?.aborted === true && !(error instanceof LinkkitError)
      const err = cancelled
        ? new LinkkitError('ERR_ABORTED', `firmware ${offer.version}: cancelled while deferred`, {
            cause: error,
          })
        : toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
      throw await this.#refused(err, offer, persistence)
    }
    this.#waiting.delete(module)
    const { options: fota, logger } = this.#deps
    try {
      const result = await performFota({
        offer,
        persistence,
        reporter: new ProgressReporter(
          (step, desc) => channel.reportProgress(step, desc, offer.module),
          fota.progress,
        ),
        onProgress: (progress) => this.#deps.progress(progress),
        tuning: { ...fota.download, allowHttp: fota.allowHttp, tls: fota.tls, ...tuning, signal },
        logger,
        ...(admission.signatures === undefined ? {} : { signatures: admission.signatures }),
        ...(admission.securityVersion === undefined ? {} : { securityVersion: admission.securityVersion }),
      })
      this.#attempts.succeeded(offer)
      this.#downloaded.set(module, { version: offer.version, sizeBytes: result.bytes })
      return result
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
      if (err.code !== 'ERR_CLOSED' && err.code !== 'ERR_ABORTED')
        this.#attempts.failed(offer, gate.clock.now())
      throw err
    }
  }

  /**
   * A download that ended before its first byte. Refusals (trust, policy) are reported with their
   * step and reason, and the adapter is told `stop({ ok: false, resumable: false })` (no `start`
   * came before it: nothing to discard). A withdrawn offer or a closed client reports nothing; a
   * cancelled wait reports -1 as a cancelled download does.
   */
  async #refused(
    error: LinkkitError,
    offer: FirmwareOffer,
    persistence: FirmwarePersistence,
  ): Promise<LinkkitError> {
    const err = closing(error, this.#deps.closing)
    if (err.code === 'ERR_CLOSED' || err.code === 'ERR_OFFER_WITHDRAWN') return err
    const { logger, channel } = this.#deps
    logger.warn({ code: err.code, version: offer.version, module: offer.module }, err.message)
    await channel.reportProgress(failureStep(err), progressDesc(err), offer.module)
    if (err.code === 'ERR_ABORTED') return err
    try {
      await persistence.stop({ ok: false, error: err, resumable: false })
    } catch (stopError) {
      logger.warn({ err: (stopError as Error).message }, 'persistence stop failed after a refusal')
    }
    return err
  }

  /**
   * After a deferral the offer is asked for again (`firmware/get`): its URL may have expired, and
   * the platform may have withdrawn or replaced it. Without a connection, or without an answer
   * (a plain broker), the offer held is used.
   */
  async #refresh(offer: FirmwareOffer): Promise<FirmwareOffer> {
    const { channel, closing, logger } = this.#deps
    if (!channel.session.connected) return offer
    let fresh: FirmwareOffer | undefined
    try {
      fresh = await channel.requestFirmware(offer.module, { signal: closing })
    } catch (error) {
      if (closing.aborted) throw error
      logger.info(
        { code: toLinkkitError(error, 'ERR_REQUEST_TIMEOUT').code },
        'offer not refreshed; using the one held',
      )
      return offer
    }
    if (fresh === undefined) {
      throw new LinkkitError('ERR_OFFER_WITHDRAWN', `the platform no longer offers firmware ${offer.version}`)
    }
    if (!sameOffer(fresh, offer)) {
      const next = fresh
      // After this download has given way, like any other offer (autoDownload takes it).
      setImmediate(() => this.#deps.replaced(next))
      throw new LinkkitError(
        'ERR_OFFER_WITHDRAWN',
        `firmware ${offer.version} was replaced by ${fresh.version}`,
      )
    }
    return fresh
  }

  /** The context `firmware.policy` judges a step by. */
  async context(
    stage: PolicyStage,
    module: string,
    persistence: FirmwarePersistence,
    version: string,
    sizeBytes: number,
    offer?: FirmwareOffer,
  ): Promise<PolicyContext> {
    const attempts =
      offer === undefined ? { failures: 0, lastFailureAt: undefined } : this.#attempts.of(offer)
    const now = this.#deps.gate.clock.now()
    return { stage, module, version, sizeBytes, offer, now, ...attempts, persistence }
  }

  /** Tells the application (`fota:deferred`) that a step waits. */
  deferred(stage: PolicyStage, module: string | undefined, version: string, deferral: Deferral): void {
    const event: FotaDeferral = { stage, version, reason: deferral.reason, retryAt: deferral.retryAt }
    if (module !== undefined && module !== 'default') event.module = module
    this.#deps.deferred(event)
  }

  /** The caller's signal joined with `close()`. */
  signal(signal: AbortSignal | undefined): AbortSignal {
    const closing = this.#deps.closing
    return signal === undefined ? closing : AbortSignal.any([signal, closing])
  }
}

/** Bytes of the whole offer (all files). */
function totalBytes(offer: FirmwareOffer): number {
  return offerFiles(offer).reduce((sum, file) => sum + file.size, 0)
}

/** The progress `desc` of a failure: its message, within the 128 characters the platform keeps. */
export function progressDesc(error: LinkkitError): string {
  return error.message.slice(0, 128)
}

/** An abort whose reason is the client's close is that close. */
function closing(error: LinkkitError, closed: AbortSignal): LinkkitError {
  if (!closed.aborted || (error.code !== 'ERR_ABORTED' && error.code !== 'ERR_CLOSED')) return error
  return closed.reason instanceof LinkkitError ? closed.reason : error
}
