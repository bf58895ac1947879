import { LinkkitError, toLinkkitError } from '@linkkit/core'
import type { FotaDeferral, FotaDownloadOptions, FotaOptions } from './fota-options.js'
import { offerFiles } from './offer.js'
import {
  progressDesc,
  type RefusalDeps,
  refreshOffer,
  refuseUndeclared,
  reportRefusal,
} from './offer-refusals.js'
import { type FotaProgress, type FotaResult, performFota } from './perform.js'
import { OfferAttempts, sameOffer } from './policy/attempts.js'
import type { PolicyContext, PolicyStage } from './policy/policy.js'
import type { Deferral, PolicyGate } from './policy/policy-gate.js'
import { OtaProgress, ProgressReporter } from './progress.js'
import type { Admission, OfferTrust } from './trust/offer-trust.js'
import type { FirmwareOffer, FirmwarePersistence } from './types.js'

/** What the downloads need from their `FotaClient`. */
export interface OfferDownloadsDeps extends RefusalDeps {
  readonly options: FotaOptions
  readonly trust: OfferTrust
  readonly gate: PolicyGate
  /** Local progress of a download (`fota:progress`). */
  progress(progress: FotaProgress): void
  /** A step waits for `firmware.policy` (`fota:deferred`). */
  deferred(deferral: FotaDeferral): void
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

  /** Refuses an offer for a module the device did not declare (see `refuseUndeclared`). */
  refuseUndeclared(offer: FirmwareOffer): Promise<LinkkitError> {
    return refuseUndeclared(this.#deps, offer)
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
   * Waits until `firmware.policy` allows the activation of what `module` downloaded last; a
   * refusal is reported as step -1 and thrown (`ERR_POLICY_REFUSED`), as is the signal's reason.
   */
  async allowActivation(
    module: string | undefined,
    persistence: FirmwarePersistence,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const name = module ?? 'default'
    const last = this.#downloaded.get(name)
    const version = last?.version ?? ''
    try {
      await this.#deps.gate.wait({
        context: () => this.context('activate', name, persistence, version, last?.sizeBytes ?? 0),
        deferred: (d) => this.deferred('activate', module, version, d),
        signal: this.signal(signal),
      })
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_POLICY_REFUSED')
      if (err.code === 'ERR_POLICY_REFUSED')
        await this.#deps.channel.reportProgress(OtaProgress.GeneralFailed, progressDesc(err), module)
      throw err
    }
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
          offer = await refreshOffer(this.#deps, this.#waiting.get(module)?.offer ?? offer)
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
      throw await reportRefusal(this.#deps, err, offer, persistence)
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
    const closing = this.#deps.closing.signal
    return signal === undefined ? closing : AbortSignal.any([signal, closing])
  }
}

/** Bytes of the whole offer (all files). */
function totalBytes(offer: FirmwareOffer): number {
  return offerFiles(offer).reduce((sum, file) => sum + file.size, 0)
}
