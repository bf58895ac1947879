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
import { FirmwareModules } from './firmware-modules.js'
import {
  type FotaDownloadOptions,
  type FotaEvents,
  type FotaOptions,
  resolveFotaOptions,
} from './fota-options.js'
import { OfferDownloads } from './offer-downloads.js'
import { type OtaAttachment, OtaChannel, type OtaInbound } from './ota-channel.js'
import type { FotaResult } from './perform.js'
import type { TrialBudget } from './persistence/confirm-budget.js'
import { PolicyGate } from './policy/policy-gate.js'
import { assertVersion } from './progress.js'
import { OfferTrust } from './trust/offer-trust.js'
import type { ConfigOffer, FirmwareImage, FirmwareOffer, FotaRequestOptions } from './types.js'

export type {
  FotaDeferral,
  FotaDownloadOptions,
  FotaEvents,
  FotaOptions,
  ModuleFirmware,
} from './fota-options.js'

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
  /** Aborted by close(): running downloads stop, and their adapters keep the bytes (resumable). */
  readonly #closing = new AbortController()
  #closed = false // read instead of `#closing.signal`, which Node makes only when first read
  readonly #gate: PolicyGate
  readonly #downloads: OfferDownloads
  readonly #boot: DeviceBoot
  readonly #trial: TrialBudget
  readonly #reported = new WeakSet<LinkkitError>()
  #attachment: OtaAttachment | undefined
  #stopInforming: (() => void) | undefined
  #stopReporting: (() => void) | undefined

  /** Throws `ERR_INVALID_OPTIONS` for bad trusted keys, security versions, policies, clock or trial budget. */
  constructor(session: Session, options: FotaOptions = {}, identity: DeviceIdentity = session) {
    super()
    this.#channel = OtaChannel.for(session, identity)
    this.#options = { ...options }
    this.#logger = createLogger(session.logger, 'fota')
    this.#modules = new FirmwareModules(this.#options)
    const trust = new OfferTrust(this.#options)
    const resolved = resolveFotaOptions(options)
    this.#trial = resolved.trial
    this.#gate = new PolicyGate(resolved.policies, resolved.clock, this.#logger)
    this.#downloads = new OfferDownloads({
      channel: this.#channel,
      options: this.#options,
      logger: this.#logger,
      trust,
      gate: this.#gate,
      closing: this.#closing,
      progress: (progress) => this.#emitSafely('fota:progress', progress),
      deferred: (deferral) => this.#emitSafely('fota:deferred', deferral),
      replaced: (offer) => this.#accept(offer),
      failed: (error) => this.#emitError(error),
    })
    this.#boot = new DeviceBoot(this.#modules, this.#channel, this.#logger, resolved.clock, {
      failed: (error) => this.#emitError(error),
      rolledBack: (rollback) => this.#emitSafely('fota:rollback', rollback),
    })
  }

  /** The version this client informs for a module (default module when omitted). */
  version(module = 'default'): string | undefined {
    return this.#modules.version(module)
  }

  /** Subscribes the OTA topics and informs versions now (when connected) and after every reconnect. */
  async start(): Promise<void> {
    if (this.#closed) throw new LinkkitError('ERR_CLOSED', 'the FOTA client was closed')
    if (this.#attachment) return
    const attachment = this.#channel.attach(ADVANCED_TOPICS, {
      offer: (offer) => this.#accept(offer),
      config: (offer) => this.#emitSafely('config', offer),
      refused: (error, _via, topic) => this.#emitError(offerError(error, topic)),
    })
    this.#attachment = attachment
    const versions = this.#versionSource()
    try {
      await this.#boot.load()
      this.#stopInforming = this.#channel.informOnConnect(versions)
      await attachment.ready
      // close() may have come meanwhile: it found less to stop than this start set up.
      if (this.#closed) throw new LinkkitError('ERR_CLOSED', 'the FOTA client was closed')
    } catch (error) {
      await this.#stop()
      throw error
    }
    if (this.#channel.session.connected) {
      await this.#channel.informNow(versions)
      await this.#boot.reportRollbacks()
    }
    this.#stopReporting = this.#boot.reportOnConnect()
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
   * and the next connect reports step -1 `rolled back`; without it within `confirmWithinMs` the
   * device rolls back at once (`fota:rollback`). Does nothing when no image is on trial (any
   * more), or the adapter has no trial boots.
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
   * `firmware.confirmWithinBoots` boots and `firmware.confirmWithinMs` (the adapter's `activate()`), once `firmware.policy`
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
    await this.#downloads.allowActivation(module, persistence, options.signal)
    const { boots, ms } = this.#trial
    return persistence.activate({
      confirmWithinBoots: boots,
      ...(ms === undefined ? {} : { confirmWithinMs: ms }),
    })
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
    if (this.#closed) throw new LinkkitError('ERR_CLOSED', 'the FOTA client was closed')
    const module = offer.module ?? 'default'
    if (options.persistence === undefined && this.#modules.undeclared(offer))
      throw await this.#downloads.refuseUndeclared(offer)
    const persistence = options.persistence ?? this.#modules.persistenceFor(offer.module)
    if (!persistence) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `no persistence configured for module ${module}`)
    }
    return this.#downloads.download(offer, persistence, options)
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

  #accept(offer: FirmwareOffer): void {
    this.#emitSafely('fota', offer)
    if (!this.#options.autoDownload) return
    // An undeclared module is refused (step -1), unless a `fota` listener already took it into an
    // adapter of its own (`download(offer, { persistence })` marks the module busy synchronously).
    const refuse = this.#modules.undeclared(offer) && !this.#downloads.busy(offer.module ?? 'default')
    if (refuse || this.#modules.persistenceFor(offer.module)) {
      this.download(offer).catch((error: unknown) => {
        // download() already emitted the refusal of an undeclared module; a download stopped by
        // close() is no failure; a replaced offer is none either; a re-push that joined a waiting
        // download shares its error, reported once.
        const err = toLinkkitError(error, 'ERR_DOWNLOAD_FAILED')
        if (err.code === 'ERR_MODULE_UNDECLARED' || err.code === 'ERR_OFFER_WITHDRAWN') return
        if (this.#closed || this.#reported.has(err)) return
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
    this.#stopReporting?.()
    this.#stopReporting = undefined
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
    this.#closed = true
    this.#closing.abort(new LinkkitError('ERR_CLOSED', 'the FOTA client was closed'))
    await this.#downloads.settle()
    await this.#boot.close()
    await this.#stop()
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

/** Any failure to read an offer, a payload that is not even JSON included, is ERR_OFFER_INVALID with the topic. */
function offerError(error: LinkkitError, topic: string): LinkkitError {
  if (error.code === 'ERR_OFFER_INVALID' && error.topic !== undefined) return error
  return new LinkkitError('ERR_OFFER_INVALID', error.message, { topic, cause: error, details: error.details })
}
