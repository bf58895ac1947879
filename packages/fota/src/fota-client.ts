import {
  createLogger,
  type DeviceIdentity,
  LinkkitError,
  type Session,
  safeEmit,
  toLinkkitError,
} from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { fetchConfig } from './cota.js'
import { DeviceBoot } from './device-boot.js'
import { failureStep } from './failure.js'
import { FirmwareModules } from './firmware-modules.js'
import { offerFiles } from './offer.js'
import { type OtaAttachment, OtaChannel, type OtaInbound } from './ota-channel.js'
import { type DownloadTuning, type FotaProgress, type FotaResult, performFota } from './perform.js'
import { confirmBudget } from './persistence/confirm-budget.js'
import { OfferAttempts, sameOffer } from './policy/attempts.js'
import { type FotaClock, isFotaClock, systemClock } from './policy/clock.js'
import { type PolicyContext, type PolicyStage, policyList, type UpdatePolicy } from './policy/policy.js'
import { type Deferral, PolicyGate } from './policy/policy-gate.js'
import { assertVersion, OtaProgress, type ProgressPolicy, ProgressReporter } from './progress.js'
import { type Admission, OfferTrust } from './trust/offer-trust.js'
import type { FirmwareTrust } from './trust/trust-keys.js'
import type {
  ConfigOffer,
  FirmwareImage,
  FirmwareOffer,
  FirmwarePersistence,
  FotaRequestOptions,
} from './types.js'

/** Firmware of one module: the version running now and where new images go. */
export interface ModuleFirmware {
  /** The version running now; informed at every (re)connect (`HAL_GetFirmwareVersion`). */
  version?: string
  /** Where downloaded images of this module go (`HAL_Firmware_Persistence_*`). */
  persistence?: FirmwarePersistence
  /**
   * Keys that sign this module's images: with them, an image without a valid signature by one of
   * them is refused (step -3). A module without its own inherits `firmware.trust`.
   */
  trust?: FirmwareTrust
  /**
   * The lowest security version (`extData.securityVersion`) accepted for this module: lower
   * offers are refused before any byte (step -1). The adapter's own counter, raised by
   * `confirm()`, counts when it is higher. Not inherited by modules. @default 0
   */
  securityVersion?: number
}

/** Options of `new FotaClient(session, options)`: `linkkit.open({ firmware })`. */
export interface FotaOptions extends ModuleFirmware {
  /** Other modules than the default one (the whole device firmware), by module name. */
  modules?: Record<string, ModuleFirmware>
  /** Accept plain `http://` firmware URLs. @default false */
  allowHttp?: boolean
  /** TLS settings of firmware downloads; verification stays on unless turned off by name. */
  tls?: DownloadTuning['tls']
  /** Download every valid offer as soon as it arrives (into the module's persistence). @default false */
  autoDownload?: boolean
  /** Defaults for every download: idle timeout, retry budget, chunk size. */
  download?: Omit<DownloadTuning, 'signal' | 'allowHttp' | 'tls'>
  /** When percentages are published: every `minStep` points, at most every `minIntervalMs`. @default { minStep: 5, minIntervalMs: 50 } */
  progress?: Partial<ProgressPolicy>
  /**
   * Update policies asked before a download starts and before `activate()`: a maintenance window,
   * enough room, a retry budget, your own predicate (`maintenanceWindow`, `enoughRoom`,
   * `retryBudget`, `allowWhen`, or any `UpdatePolicy`). A deferred step waits and is taken again
   * when they allow it (`fota:deferred` says why); a refusal is reported as step -1.
   */
  policy?: UpdatePolicy | readonly UpdatePolicy[]
  /**
   * Boots an activated image gets to be confirmed (`device.fota.confirm()`) before the adapter
   * rolls back; passed to the adapter by `activate()`. @default 1
   */
  confirmWithinBoots?: number
  /** The clock of policies and deferrals; tests pass a fake one. @default the system clock */
  clock?: FotaClock
}

/** A step held back by `firmware.policy`, as `fota:deferred` tells it. */
export interface FotaDeferral {
  /** What waits: a download or an activation. */
  stage: PolicyStage
  /** The module, undefined for the default one. */
  module?: string
  /** The version offered or downloaded. */
  version: string
  /** Why, as the deferring policies said it. */
  reason: string
  /** When the policies are asked again (clock time, ms since the epoch). */
  retryAt: number
}

/** Options of `FotaClient.download`: tuning for this download and an adapter for it. */
export interface FotaDownloadOptions extends Omit<DownloadTuning, 'allowHttp' | 'tls'> {
  /** Overrides the module's configured persistence for this download. */
  persistence?: FirmwarePersistence
}

/** Events of a `FotaClient` (and so of `device.fota`). */
export interface FotaEvents {
  /** The cloud offers firmware (an upgrade push, or a firmware/get reply). ITE_FOTA / ITE_FOTA_MODULE. */
  fota: (offer: FirmwareOffer) => void
  /** Local download progress after each stored chunk. */
  'fota:progress': (progress: FotaProgress) => void
  /** `firmware.policy` held a download or an activation back; it is taken again at `retryAt`. Nothing is reported to the platform meanwhile. */
  'fota:deferred': (deferral: FotaDeferral) => void
  /** A remote configuration is offered (ITE_COTA). */
  config: (offer: ConfigOffer) => void
  /** Refused offers (`ERR_OFFER_INVALID`, `ERR_MODULE_UNDECLARED`), failed informs and `autoDownload` failures. Without a listener it is printed once per code as a `LinkkitWarning` (docs/errors.md). */
  error: (error: LinkkitError) => void
}

/** The topics the advanced API hears: pushes, unsolicited query replies, config pushes (docs/protocol.md §3.1). */
const ADVANCED_TOPICS: readonly OtaInbound[] = ['upgrade', 'firmwareGetReply', 'configPush']

/**
 * The advanced OTA API (IOT_Linkkit_* FOTA): listens for offers, informs versions on every
 * (re)connect, downloads into a FirmwarePersistence with verification and progress. The wire is
 * the session's shared OTA channel, so an `OtaSession` on the same session answers nothing twice.
 */
export class FotaClient extends EventEmitter<FotaEvents> {
  readonly #channel: OtaChannel
  readonly #options: FotaOptions
  readonly #logger: Logger
  readonly #modules: FirmwareModules
  readonly #busy = new Set<string>()
  /** Aborted by close(): running downloads stop, and their adapters keep the bytes (resumable). */
  readonly #closing = new AbortController()
  readonly #downloads = new Set<Promise<unknown>>()
  readonly #trust: OfferTrust
  readonly #gate: PolicyGate
  readonly #attempts = new OfferAttempts()
  readonly #boot: DeviceBoot
  readonly #confirmWithinBoots: number
  /** Downloads waiting for `firmware.policy`, by module: a re-push of the same offer joins, another replaces. */
  readonly #waiting = new Map<
    string,
    { offer: FirmwareOffer; running: Promise<FotaResult>; withdraw: AbortController; deferred: boolean }
  >()
  /** What each module downloaded last, for the policy context of `activate()`. */
  readonly #downloaded = new Map<string, { version: string; sizeBytes: number }>()
  readonly #reported = new WeakSet<LinkkitError>()
  #attachment: OtaAttachment | undefined
  #stopInforming: (() => void) | undefined

  /** Throws `ERR_INVALID_OPTIONS` for bad trusted keys, security versions, policies or clock. */
  constructor(session: Session, options: FotaOptions = {}, identity: DeviceIdentity = session) {
    super()
    this.#channel = OtaChannel.for(session, identity)
    this.#options = { ...options }
    this.#logger = createLogger(session.logger, 'fota')
    this.#modules = new FirmwareModules(this.#options)
    this.#trust = new OfferTrust(this.#options)
    if (options.clock !== undefined && !isFotaClock(options.clock)) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'firmware.clock needs now() and setTimer()')
    }
    const policies = policyList(options.policy)
    for (const policy of policies) {
      if (typeof policy?.check !== 'function' || typeof policy.name !== 'string') {
        throw new LinkkitError(
          'ERR_INVALID_OPTIONS',
          'firmware.policy takes UpdatePolicy objects ({ name, check })',
        )
      }
    }
    this.#gate = new PolicyGate(policies, options.clock ?? systemClock, this.#logger)
    try {
      this.#confirmWithinBoots = confirmBudget(options)
    } catch (error) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `firmware.${(error as Error).message}`)
    }
    this.#boot = new DeviceBoot(this.#modules, this.#channel, this.#logger, (error) => this.#emitError(error))
  }

  /** The version this client informs for a module (default module when omitted). */
  version(module = 'default'): string | undefined {
    return this.#modules.version(module)
  }

  /** Subscribes the OTA topics and informs versions now (when connected) and after every reconnect. */
  async start(): Promise<void> {
    if (this.#attachment) return
    const attachment = this.#channel.attach(ADVANCED_TOPICS, {
      offer: (offer) => this.#accept(offer),
      config: (offer) => this.#emitSafely('config', offer),
      refused: (error, _via, topic) => this.#emitError(offerError(error, topic)),
    })
    this.#attachment = attachment
    await this.#boot.load()
    const versions = this.#versionSource()
    this.#stopInforming = this.#channel.informOnConnect(versions)
    try {
      await attachment.ready
    } catch (error) {
      await this.#stop()
      throw error
    }
    const session = this.#channel.session
    if (session.connected) {
      await this.#channel.informNow(versions)
      await this.#boot.reportRollbacks()
    } else {
      session.once('connected', () => void this.#boot.reportRollbacks())
    }
  }

  /** The versions informed at every connect: a module's image on trial waits for `confirm()`. */
  #versionSource() {
    return {
      versions: () => this.#boot.informable(this.#modules.versions()),
      failed: (error: LinkkitError) => this.#emitError(error),
    }
  }

  /**
   * The application's image passed its own health checks: keeps it for good (the adapter's
   * `confirm()`, which also raises its security counter) and informs its version, so the
   * platform's job succeeds. Without it within `confirmWithinBoots` boots the adapter rolls back,
   * and the next connect reports step -1 `rolled back`. Does nothing when no image is on trial
   * or the adapter has no trial boots.
   */
  async confirm(module?: string): Promise<void> {
    const name = module ?? 'default'
    const persistence = this.#modules.persistenceFor(module)
    if (persistence === undefined) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', `no persistence is configured for module ${name}`)
    }
    const version = await this.#boot.confirm(name, persistence)
    if (version !== undefined && this.#channel.session.connected)
      await this.#channel.informNow(this.#versionSource())
  }

  /**
   * Makes the downloaded image of a module run at the next boot, on trial for
   * `firmware.confirmWithinBoots` boots (the adapter's `activate()`), once `firmware.policy`
   * allows it (a maintenance window, the device's own predicate…); resolves with the image.
   * Restart the device afterwards. Rejects `ERR_POLICY_REFUSED` (reported as step -1),
   * `ERR_PERSISTENCE` (no committed image, or an adapter without `activate()`), or the signal's reason.
   */
  async activate(module?: string, options: { signal?: AbortSignal } = {}): Promise<FirmwareImage> {
    const name = module ?? 'default'
    const persistence = this.#modules.persistenceFor(module)
    if (persistence?.activate === undefined) {
      throw new LinkkitError('ERR_PERSISTENCE', `the adapter of module ${name} cannot activate an image`)
    }
    const last = this.#downloaded.get(name)
    const signal = this.#signal(options.signal)
    try {
      await this.#gate.wait({
        context: () =>
          this.#context('activate', name, persistence, last?.version ?? '', last?.sizeBytes ?? 0),
        deferred: (d) => this.#deferred('activate', module, last?.version ?? '', d),
        signal,
      })
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_POLICY_REFUSED')
      if (err.code === 'ERR_POLICY_REFUSED')
        await this.#channel.reportProgress(OtaProgress.GeneralFailed, desc(err), module)
      throw err
    }
    return persistence.activate({ confirmWithinBoots: this.#confirmWithinBoots })
  }

  /** Reports the running version of a module (`/ota/device/inform`), and remembers it for reconnects. */
  async reportVersion(version: string, module?: string): Promise<void> {
    assertVersion(version)
    this.#modules.setVersion(module ?? 'default', version)
    await this.#channel.inform(version, module)
  }

  /** Reports a progress step for a module yourself (IOT_OTA_ReportProgress). */
  async reportProgress(step: number, desc = '', module?: string): Promise<void> {
    await this.#channel.reportProgress(step, desc, module)
  }

  /**
   * Asks the cloud for pending firmware (`thing.ota.firmware.get`). Resolves with the offer (also
   * emitted as `fota`, and downloaded when `autoDownload` is on) or undefined when nothing is pending.
   */
  async request(module?: string, options: FotaRequestOptions = {}): Promise<FirmwareOffer | undefined> {
    const offer = await this.#channel.requestFirmware(module, options)
    // Like any other offer: a throwing listener must not reject this call, and autoDownload applies.
    if (offer !== undefined) this.#accept(offer)
    return offer
  }

  /**
   * Streams the offered image into the module's persistence, verifies it and reports progress.
   * Resolves with the verified result; rejects with a coded LinkkitError (ERR_OTA_BUSY while the same
   * module downloads; ERR_DOWNLOAD_*, ERR_DIGEST_MISMATCH, ERR_SIZE_MISMATCH, ERR_PERSISTENCE_* otherwise).
   *
   * An offer for a module the device did not declare (no `modules[name]`, no `options.persistence`)
   * is refused before anything is fetched or written: the platform gets progress `-1` with a `desc`
   * naming the module, an `error` event is emitted, and the call rejects with ERR_MODULE_UNDECLARED.
   */
  async download(offer: FirmwareOffer, options: FotaDownloadOptions = {}): Promise<FotaResult> {
    if (this.#closing.signal.aborted) throw new LinkkitError('ERR_CLOSED', 'the FOTA client was closed')
    const module = offer.module ?? 'default'
    if (options.persistence === undefined && this.#modules.undeclared(offer))
      throw await this.#refuseUndeclared(offer)
    const persistence = options.persistence ?? this.#modules.persistenceFor(offer.module)
    if (!persistence) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `no persistence configured for module ${module}`)
    }
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
    this.#downloads.add(running)
    try {
      return await running
    } finally {
      this.#downloads.delete(running)
      if (this.#waiting.get(module)?.running === running) this.#waiting.delete(module)
      this.#busy.delete(module)
    }
  }

  /**
   * One download: the trust checks (security version, signatures) and `firmware.policy` before any
   * byte, then the stream, the digest and the signature. A refusal before the first byte is
   * reported (step -1 or -3) and tells the adapter `stop({ ok: false, resumable: false })`.
   */
  async #run(
    first: FirmwareOffer,
    persistence: FirmwarePersistence,
    options: FotaDownloadOptions,
    withdraw: AbortController,
  ): Promise<FotaResult> {
    const module = first.module ?? 'default'
    const { persistence: _p, signal: callerSignal, ...tuning } = options
    const signal = this.#signal(callerSignal)
    const waitSignal = AbortSignal.any([signal, withdraw.signal])
    let offer = first
    let admission: Admission
    try {
      admission = await this.#admit(offer, persistence)
      await this.#gate.wait({
        context: () => {
          offer = this.#waiting.get(module)?.offer ?? offer
          return this.#context('download', module, persistence, offer.version, totalBytes(offer), offer)
        },
        deferred: (d) => {
          const waiting = this.#waiting.get(module)
          if (waiting !== undefined) waiting.deferred = true
          this.#deferred('download', offer.module, offer.version, d)
        },
        woke: async () => {
          offer = await this.#refresh(this.#waiting.get(module)?.offer ?? offer)
          admission = await this.#admit(offer, persistence)
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
    try {
      const result = await performFota({
        offer,
        persistence,
        reporter: new ProgressReporter(
          (step, desc) => this.#channel.reportProgress(step, desc, offer.module),
          this.#options.progress,
        ),
        onProgress: (progress) => this.#emitSafely('fota:progress', progress),
        tuning: {
          ...this.#options.download,
          allowHttp: this.#options.allowHttp,
          tls: this.#options.tls,
          ...tuning,
          signal,
        },
        logger: this.#logger,
        ...(admission.signatures === undefined ? {} : { signatures: admission.signatures }),
        ...(admission.securityVersion === undefined ? {} : { securityVersion: admission.securityVersion }),
      })
      this.#attempts.succeeded(offer)
      this.#downloaded.set(module, { version: offer.version, sizeBytes: result.bytes })
      return result
    } catch (error) {
      const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
      if (err.code !== 'ERR_CLOSED' && err.code !== 'ERR_ABORTED')
        this.#attempts.failed(offer, this.#gate.clock.now())
      throw err
    }
  }

  /** The security version and signature checks of {@link OfferTrust}; their errors are reported by `#refused`. */
  #admit(offer: FirmwareOffer, persistence: FirmwarePersistence): Promise<Admission> {
    return this.#trust.admit(offer, persistence)
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
    const err = closing(error, this.#closing.signal)
    if (err.code === 'ERR_CLOSED' || err.code === 'ERR_OFFER_WITHDRAWN') return err
    this.#logger.warn({ code: err.code, version: offer.version, module: offer.module }, err.message)
    await this.#channel.reportProgress(failureStep(err), desc(err), offer.module)
    if (err.code === 'ERR_ABORTED') return err
    try {
      await persistence.stop({ ok: false, error: err, resumable: false })
    } catch (stopError) {
      this.#logger.warn({ err: (stopError as Error).message }, 'persistence stop failed after a refusal')
    }
    return err
  }

  /**
   * After a deferral the offer is asked for again (`firmware/get`): its URL may have expired, and
   * the platform may have withdrawn or replaced it. Without a connection, or without an answer
   * (a plain broker), the offer held is used.
   */
  async #refresh(offer: FirmwareOffer): Promise<FirmwareOffer> {
    if (!this.#channel.session.connected) return offer
    let fresh: FirmwareOffer | undefined
    try {
      fresh = await this.#channel.requestFirmware(offer.module, { signal: this.#closing.signal })
    } catch (error) {
      if (this.#closing.signal.aborted) throw error
      this.#logger.info(
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
      setImmediate(() => this.#accept(next))
      throw new LinkkitError(
        'ERR_OFFER_WITHDRAWN',
        `firmware ${offer.version} was replaced by ${fresh.version}`,
      )
    }
    return fresh
  }

  async #context(
    stage: PolicyStage,
    module: string,
    persistence: FirmwarePersistence,
    version: string,
    sizeBytes: number,
    offer?: FirmwareOffer,
  ): Promise<PolicyContext> {
    const attempts =
      offer === undefined ? { failures: 0, lastFailureAt: undefined } : this.#attempts.of(offer)
    return { stage, module, version, sizeBytes, offer, now: this.#gate.clock.now(), ...attempts, persistence }
  }

  #deferred(stage: PolicyStage, module: string | undefined, version: string, deferral: Deferral): void {
    const event: FotaDeferral = { stage, version, reason: deferral.reason, retryAt: deferral.retryAt }
    if (module !== undefined && module !== 'default') event.module = module
    this.#emitSafely('fota:deferred', event)
  }

  /** The caller's signal joined with `close()`. */
  #signal(signal: AbortSignal | undefined): AbortSignal {
    const closing = this.#closing.signal
    return signal === undefined ? closing : AbortSignal.any([signal, closing])
  }

  /** Requests the product's remote configuration (`thing.config.get`); resolves with the offer or undefined. */
  requestConfig(options: FotaRequestOptions = {}): Promise<ConfigOffer | undefined> {
    return this.#channel.requestConfig(options)
  }

  /** Fetches and verifies a configuration file with the same downloader; resolves with its bytes. */
  fetchConfig(
    offer: ConfigOffer,
    options: { signal?: AbortSignal; maxBytes?: number } = {},
  ): Promise<Buffer> {
    return fetchConfig(offer, {
      ...options,
      allowHttp: this.#options.allowHttp,
      tls: this.#options.tls,
      logger: this.#logger,
    })
  }

  /** Tells the platform (step -1 with the reason) and the application (`error`); returns the error to throw. */
  async #refuseUndeclared(offer: FirmwareOffer): Promise<LinkkitError> {
    const module = offer.module ?? 'default'
    const desc = `module ${module} is not declared on this device`.slice(0, 128)
    const error = new LinkkitError('ERR_MODULE_UNDECLARED', `firmware ${offer.version}: ${desc}`, {
      details: { module, version: offer.version },
    })
    this.#logger.warn({ module, version: offer.version }, 'offer for an undeclared module refused')
    await this.#channel.reportProgress(OtaProgress.GeneralFailed, desc, offer.module)
    this.#emitError(error)
    return error
  }

  #accept(offer: FirmwareOffer): void {
    this.#emitSafely('fota', offer)
    if (!this.#options.autoDownload) return
    // An undeclared module is refused (step -1), unless a `fota` listener already took it into an
    // adapter of its own (`download(offer, { persistence })` marks the module busy synchronously).
    const refuse = this.#modules.undeclared(offer) && !this.#busy.has(offer.module ?? 'default')
    if (refuse || this.#modules.persistenceFor(offer.module)) {
      this.download(offer).catch((error: unknown) => {
        // download() already emitted the refusal of an undeclared module; a download stopped by
        // close() is no failure; a replaced offer is none either; a re-push that joined a waiting
        // download shares its error, reported once.
        const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
        if (err.code === 'ERR_MODULE_UNDECLARED' || err.code === 'ERR_OFFER_WITHDRAWN') return
        if (this.#closing.signal.aborted || this.#reported.has(err)) return
        this.#reported.add(err)
        this.#emitError(err)
      })
    }
  }

  #emitError(error: LinkkitError): void {
    this.#logger.warn({ code: error.code, topic: error.topic }, error.message)
    this.#emitSafely('error', error)
  }

  /** Listeners must not break protocol handling by throwing; an unheard `error` still reaches stderr. */
  #emitSafely<E extends EventEmitter.EventNames<FotaEvents>>(
    event: E,
    ...args: EventEmitter.EventArgs<FotaEvents, E>
  ): void {
    safeEmit<FotaEvents, E>(this, this.#logger, event, ...args)
  }

  /** Stops hearing the channel and informing at reconnects. */
  async #stop(): Promise<void> {
    this.#stopInforming?.()
    this.#stopInforming = undefined
    const attachment = this.#attachment
    this.#attachment = undefined
    await attachment?.detach()
  }

  /**
   * Stops running downloads (they reject `ERR_CLOSED`; their adapters keep the bytes so far, so the
   * next download of the same image resumes), waits for them to settle, unsubscribes the OTA
   * topics and removes every listener. Later downloads reject `ERR_CLOSED`. Idempotent.
   */
  async close(): Promise<void> {
    this.#closing.abort(new LinkkitError('ERR_CLOSED', 'the FOTA client was closed'))
    await Promise.allSettled([...this.#downloads])
    await this.#stop()
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** Bytes of the whole offer (all files). */
function totalBytes(offer: FirmwareOffer): number {
  return offerFiles(offer).reduce((sum, file) => sum + file.size, 0)
}

/** The progress `desc` of a failure: its message, within the 128 characters the platform keeps. */
function desc(error: LinkkitError): string {
  return error.message.slice(0, 128)
}

/** An abort whose reason is the client's close is that close. */
function closing(error: LinkkitError, closed: AbortSignal): LinkkitError {
  if (!closed.aborted || (error.code !== 'ERR_ABORTED' && error.code !== 'ERR_CLOSED')) return error
  return closed.reason instanceof LinkkitError ? closed.reason : error
}

/** Any failure to read an offer, a payload that is not even JSON included, is ERR_OFFER_INVALID with the topic. */
function offerError(error: LinkkitError, topic: string): LinkkitError {
  if (error.code === 'ERR_OFFER_INVALID' && error.topic !== undefined) return error
  return new LinkkitError('ERR_OFFER_INVALID', error.message, { topic, cause: error, details: error.details })
}
