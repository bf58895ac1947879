import { emitError, LinkkitError, type Session, safeEmit, toLinkkitError } from '@linkkit/core'
import { EventEmitter } from 'eventemitter3'
import type { DownloadRetryOptions, DownloadTlsOptions } from './download/index.js'
import { type OtaAttachment, OtaChannel, type OtaInbound } from './ota-channel.js'
import { type Accepted, OtaFetch } from './ota-fetch.js'
import { assertVersion, OtaProgress } from './progress.js'
import type { ConfigOffer, DigestMethod, FirmwareOffer } from './types.js'

/** IOT_OTA_State_t (v3.1+). */
export const OtaState = {
  /** No offer (state INITED). */
  Inited: 'INITED',
  /** An offer was accepted, nothing fetched yet (state PUSHED). */
  Pushed: 'PUSHED',
  /** `fetchYield` is fetching (state FETCHING). */
  Fetching: 'FETCHING',
  /** Every byte was fetched (state FETCHED). */
  Fetched: 'FETCHED',
  /** `close()` was called. */
  Closed: 'CLOSED',
} as const
/** One of the `OtaState` values. */
export type OtaStateName = (typeof OtaState)[keyof typeof OtaState]

/** IOT_OTA_Type_t: what the current offer is. */
export type OtaType = 'none' | 'fota' | 'cota'

/** Options of `new OtaSession(session, options)` (IOT_OTA_Init). */
export interface OtaSessionOptions {
  /** Whose OTA topics (a sub-device the session carries, say). @default the session's productKey */
  productKey?: string
  /** @default the session's deviceName */
  deviceName?: string
  /** Module name used in inform and progress (IOTX_IOCTL_SET_MODULE). */
  module?: string
  /** Accept plain `http://` URLs. @default false */
  allowHttp?: boolean
  /** TLS settings of the download; verification stays on unless turned off by name. */
  tls?: DownloadTlsOptions
  /** @default 30000 */
  idleTimeoutMs?: number
  /** Deadline of each fetch run, retries included (see `DownloadOptions.deadlineMs`). @default 86400000 */
  deadlineMs?: number
  /** Slowest accepted transfer; time your loop takes between `fetchYield` calls does not count. @default 1024 */
  minBytesPerSecond?: number
  /** Window `minBytesPerSecond` is judged over. @default 60000 */
  rateWindowMs?: number
  /** Retry budget of a fetch before `fetchYield` rejects; the next call resumes anyway. */
  retry?: Partial<DownloadRetryOptions>
}

/** Events of an `OtaSession`. */
export interface OtaSessionEvents {
  /** An offer was accepted (IOT_OTA_SetOnPushedCallback). */
  pushed: (type: OtaType) => void
  /** A failure, also kept in `lastError` (IOT_OTA_GetLastError). A refused push without a listener is printed once per code as a `LinkkitWarning`. */
  error: (error: LinkkitError) => void
}

/** The topics IOT_OTA_Init subscribes (docs/protocol.md §4.1). */
const BASIC_TOPICS: readonly OtaInbound[] = ['upgrade', 'request', 'configPush', 'configGetReply']

/**
 * The basic OTA API, one for one with IOT_OTA_*: a state machine INITED → PUSHED → FETCHING →
 * FETCHED driven by the caller's fetchYield loop, over the session's shared OTA channel (which
 * reads, answers and reports on the wire). Unlike 3.x, `reset()` really resets (docs/protocol.md §4.1).
 */
export class OtaSession extends EventEmitter<OtaSessionEvents> {
  /** Resolves once the OTA topics are subscribed (IOT_OTA_Init). */
  readonly ready: Promise<void>
  readonly #channel: OtaChannel
  readonly #attachment: OtaAttachment
  readonly #options: OtaSessionOptions
  #state: OtaStateName = OtaState.Inited
  /** The accepted offer and its download; undefined in INITED and CLOSED. */
  #fetch: OtaFetch | undefined
  /** The last failure (IOT_OTA_GetLastError), or undefined. */
  lastError: LinkkitError | undefined

  constructor(session: Session, options: OtaSessionOptions = {}) {
    super()
    this.#options = { ...options }
    this.#channel = OtaChannel.for(session, {
      productKey: options.productKey ?? session.productKey,
      deviceName: options.deviceName ?? session.deviceName,
    })
    this.#attachment = this.#channel.attach(BASIC_TOPICS, {
      offer: (offer) => this.#accept({ type: 'fota', offer }),
      config: (config) => this.#accept({ type: 'cota', config }),
      refused: (error) => this.#failUnasked(error),
    })
    this.ready = this.#attachment.ready
    this.ready.catch((error: unknown) => {
      this.lastError = toLinkkitError(error, 'ERR_SUBSCRIBE_FAILED')
    })
  }

  /** The session state (IOT_OTA_State_t). */
  get state(): OtaStateName {
    return this.#state
  }
  /** IOT_OTAG_OTA_TYPE */
  get type(): OtaType {
    return this.#fetch?.accepted.type ?? 'none'
  }
  /** The accepted firmware offer, if any. */
  get offer(): FirmwareOffer | undefined {
    return this.#fetch?.offer
  }
  /** The accepted config offer (IOT_OTAG_COTA_*), if any. */
  get config(): ConfigOffer | undefined {
    return this.#fetch?.config
  }
  /** IOT_OTAG_FETCHED_SIZE */
  get fetchedSize(): number {
    return this.#fetch?.fetched ?? 0
  }
  /** IOT_OTAG_FILE_SIZE */
  get fileSize(): number {
    return this.#fetch?.size ?? 0
  }
  /** IOT_OTAG_MD5SUM: the expected MD5 (lowercase hex), when the offer carries one. */
  get md5(): string | undefined {
    const offer = this.#fetch?.offer
    return offer?.md5 ?? (offer?.signMethod === 'Md5' ? offer.digest : undefined)
  }
  /** Digest method of the offer or configuration. */
  get signMethod(): DigestMethod | undefined {
    return this.#fetch?.signMethod
  }
  /** The expected digest per signMethod. */
  get digest(): string | undefined {
    return this.#fetch?.digest
  }
  /** IOT_OTAG_VERSION: the target version. */
  get version(): string | undefined {
    return this.#fetch?.offer?.version
  }
  /** IOT_OTAG_MODULE */
  get module(): string | undefined {
    return this.#fetch?.offer?.module ?? this.#options.module
  }

  /** IOT_OTA_ReportVersion */
  async reportVersion(version: string): Promise<void> {
    assertVersion(version)
    await this.#channel.inform(version, this.#options.module)
  }

  /** IOT_OTA_ReportProgress: a percentage 0–100 or an OtaProgress failure step. */
  async reportProgress(step: number, desc = ''): Promise<void> {
    await this.#channel.reportProgress(step, desc, this.#options.module)
  }

  /** IOT_OTA_IsFetching: an offer is pending or being fetched. */
  isFetching(): boolean {
    return this.#state === OtaState.Pushed || this.#state === OtaState.Fetching
  }

  /** IOT_OTA_IsFetchFinish */
  isFetchFinish(): boolean {
    return this.#state === OtaState.Fetched
  }

  /**
   * IOT_OTA_FetchYield: copies up to `buffer.length` further bytes of the image into `buffer` and
   * resolves with the count; 0 when none arrived within `timeoutMs`. A failure rejects (and is kept
   * in `lastError`); the next call resumes from `fetchedSize` with Range.
   */
  async fetchYield(buffer: Uint8Array, timeoutMs = 1000): Promise<number> {
    if (this.#state !== OtaState.Pushed && this.#state !== OtaState.Fetching) {
      throw this.#fail(
        new LinkkitError('ERR_OTA_STATE', `fetchYield needs PUSHED or FETCHING, state is ${this.#state}`),
      )
    }
    if (!(buffer instanceof Uint8Array) || buffer.length === 0) {
      throw this.#fail(new LinkkitError('ERR_INVALID_ARGUMENT', 'fetchYield needs a non-empty buffer'))
    }
    if (this.#state === OtaState.Pushed) {
      this.#state = OtaState.Fetching
      // 3.x forces step 0 "Enter in downloading state" on the first fetch. Not awaited: while MQTT
      // is down the report waits in the offline queue, and fetching must not wait for it.
      void this.reportProgress(0, 'Enter in downloading state')
    }
    const fetch = this.#fetch!
    try {
      const n = await fetch.read(buffer, timeoutMs)
      if (fetch.finished) this.#state = OtaState.Fetched
      return n
    } catch (error) {
      throw this.#fail(toLinkkitError(error, 'ERR_DOWNLOAD_FAILED'))
    }
  }

  /**
   * IOT_OTAG_CHECK_FIRMWARE / CHECK_CONFIG: whether the fetched bytes match the offer's digest.
   * Only in FETCHED state; on a mismatch it reports step -3, as the C SDK does.
   */
  checkFirmware(): boolean {
    const fetch = this.#fetch
    if (this.#state !== OtaState.Fetched || !fetch) {
      throw this.#fail(
        new LinkkitError('ERR_OTA_STATE', `checkFirmware needs FETCHED, state is ${this.#state}`),
      )
    }
    if (fetch.verdict !== undefined) return fetch.verdict
    if (fetch.check()) return true
    this.lastError = new LinkkitError(
      'ERR_DIGEST_MISMATCH',
      'fetched image does not match the offered digest',
    )
    void this.reportProgress(OtaProgress.CheckFailed, 'digest mismatch')
    return false
  }

  /** IOT_OTAG_RESET_STATE, done as intended: aborts any fetch and returns to INITED. */
  reset(): void {
    this.#fetch?.cancel()
    this.#fetch = undefined
    if (this.#state !== OtaState.Closed) this.#state = OtaState.Inited
  }

  /**
   * Asks for the product configuration (iotx_ota_get_config → thing.config.get); the reply arrives
   * as an offer. Sent at the session's `alinkQos` (QoS 0, as the C SDK does) and queued while
   * reconnecting.
   */
  async requestConfig(): Promise<void> {
    await this.#channel.sendConfigGet()
  }

  #accept(accepted: Accepted): void {
    const logger = this.#channel.session.logger
    if (this.#state === OtaState.Fetching || this.#state === OtaState.Closed) {
      logger.info({ state: this.#state }, 'offer ignored while fetching')
      return
    }
    this.reset()
    this.#fetch = new OtaFetch(accepted, this.#options, logger)
    this.#state = OtaState.Pushed
    safeEmit(this, logger, 'pushed', accepted.type)
  }

  /** A failure the caller is about to receive as a rejection: kept and emitted, never warned about. */
  #fail(error: LinkkitError): LinkkitError {
    this.lastError = error
    if (this.listenerCount('error') > 0) safeEmit(this, this.#channel.session.logger, 'error', error)
    return error
  }

  /** A failure no call returns (a refused push): kept, emitted, and on stderr when nobody listens. */
  #failUnasked(error: LinkkitError): void {
    if (this.#state === OtaState.Closed) return
    this.lastError = error
    emitError(this, error, this.#channel.session.logger)
  }

  /** IOT_OTA_Deinit */
  async close(): Promise<void> {
    if (this.#state === OtaState.Closed) return
    this.reset()
    this.#state = OtaState.Closed
    await this.ready.catch(() => {})
    await this.#attachment.detach()
    this.removeAllListeners()
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
