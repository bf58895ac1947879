import {
  createLogger,
  type DeviceIdentity,
  isLinkkitError,
  LinkkitError,
  type Session,
  safeEmit,
  toLinkkitError,
} from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import { fetchConfig } from './cota.js'
import { FirmwareModules } from './firmware-modules.js'
import { type OtaAttachment, OtaChannel, type OtaInbound } from './ota-channel.js'
import { type DownloadTuning, type FotaProgress, type FotaResult, performFota } from './perform.js'
import { assertVersion, OtaProgress, type ProgressPolicy, ProgressReporter } from './progress.js'
import type { ConfigOffer, FirmwareOffer, FirmwarePersistence, FotaRequestOptions } from './types.js'

/** Firmware of one module: the version running now and where new images go. */
export interface ModuleFirmware {
  /** The version running now; informed at every (re)connect (`HAL_GetFirmwareVersion`). */
  version?: string
  /** Where downloaded images of this module go (`HAL_Firmware_Persistence_*`). */
  persistence?: FirmwarePersistence
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
  #attachment: OtaAttachment | undefined
  #stopInforming: (() => void) | undefined

  constructor(session: Session, options: FotaOptions = {}, identity: DeviceIdentity = session) {
    super()
    this.#channel = OtaChannel.for(session, identity)
    this.#options = { ...options }
    this.#logger = createLogger(session.logger, 'fota')
    this.#modules = new FirmwareModules(this.#options)
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
    const versions = {
      versions: () => this.#modules.versions(),
      failed: (error: LinkkitError) => this.#emitError(error),
    }
    this.#stopInforming = this.#channel.informOnConnect(versions)
    try {
      await attachment.ready
    } catch (error) {
      await this.#stop()
      throw error
    }
    if (this.#channel.session.connected) await this.#channel.informNow(versions)
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
    if (this.#busy.has(module))
      throw new LinkkitError('ERR_OTA_BUSY', `module ${module} is already downloading`)
    this.#busy.add(module)
    const closing = this.#closing.signal
    const { persistence: _p, signal, ...tuning } = options
    const running = performFota({
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
        signal: signal === undefined ? closing : AbortSignal.any([signal, closing]),
      },
      logger: this.#logger,
    })
    this.#downloads.add(running)
    try {
      return await running
    } finally {
      this.#downloads.delete(running)
      this.#busy.delete(module)
    }
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
        // download() already emitted the refusal of an undeclared module.
        // A download stopped by close() is no failure to report.
        if (!isLinkkitError(error, 'ERR_MODULE_UNDECLARED') && !this.#closing.signal.aborted)
          this.#emitError(toLinkkitError(error, 'ERR_DOWNLOAD_FAILED'))
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

/** Any failure to read an offer, a payload that is not even JSON included, is ERR_OFFER_INVALID with the topic. */
function offerError(error: LinkkitError, topic: string): LinkkitError {
  if (error.code === 'ERR_OFFER_INVALID' && error.topic !== undefined) return error
  return new LinkkitError('ERR_OFFER_INVALID', error.message, { topic, cause: error, details: error.details })
}
