import type { Logger } from 'pino'
import type { OtaSessionOptions } from './ota-session.js'
import { PullDownload } from './pull-download.js'
import type { ConfigOffer, DigestMethod, FirmwareOffer } from './types.js'

/** What an `OtaSession` accepted: a firmware offer or a configuration. */
export type Accepted =
  | {
      /** Firmware (IOT_OTAT_FOTA). */
      type: 'fota'
      offer: FirmwareOffer
    }
  | {
      /** A configuration file (IOT_OTAT_COTA). */
      type: 'cota'
      config: ConfigOffer
    }

/**
 * The offer an `OtaSession` accepted and the pull download of its file: what the IOT_OTAG_*
 * queries answer, `fetchYield`'s bytes and `checkFirmware`'s verdict (judged once, as the C SDK
 * finishes its hash at the first check).
 */
export class OtaFetch {
  /** The accepted offer. */
  readonly accepted: Accepted
  readonly #pull: PullDownload
  #verdict: boolean | undefined

  constructor(accepted: Accepted, options: OtaSessionOptions, logger: Logger) {
    this.accepted = accepted
    this.#pull = new PullDownload(accepted.type === 'fota' ? accepted.offer : accepted.config, {
      allowHttp: options.allowHttp === true,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...pick(options, ['deadlineMs', 'minBytesPerSecond', 'rateWindowMs']),
      ...(options.retry ? { retry: options.retry } : {}),
      logger,
    })
  }

  /** The firmware offer, for type `fota`. */
  get offer(): FirmwareOffer | undefined {
    return this.accepted.type === 'fota' ? this.accepted.offer : undefined
  }
  /** The configuration, for type `cota`. */
  get config(): ConfigOffer | undefined {
    return this.accepted.type === 'cota' ? this.accepted.config : undefined
  }
  /** File size in bytes. */
  get size(): number {
    return this.#source.size
  }
  /** Digest method of the file. */
  get signMethod(): DigestMethod {
    return this.#source.signMethod
  }
  /** The expected lowercase hex digest. */
  get digest(): string {
    return this.#source.digest
  }
  /** Bytes handed to the caller so far. */
  get fetched(): number {
    return this.#pull.fetched
  }
  /** Every byte was handed out. */
  get finished(): boolean {
    return this.#pull.finished
  }
  /** Whether the check ran already (undefined before), and its verdict. */
  get verdict(): boolean | undefined {
    return this.#verdict
  }

  get #source(): FirmwareOffer | ConfigOffer {
    return this.accepted.type === 'fota' ? this.accepted.offer : this.accepted.config
  }

  /** Up to `buffer.length` further bytes; 0 when none came within `timeoutMs`; rejects on a failed fetch. */
  read(buffer: Uint8Array, timeoutMs: number): Promise<number> {
    return this.#pull.read(buffer, timeoutMs)
  }

  /** Whether the bytes handed out match the digest; call once `finished`. The first verdict stands. */
  check(): boolean {
    this.#verdict ??= this.#pull.digest() === this.digest
    return this.#verdict
  }

  /** Stops any transfer in progress. */
  cancel(): void {
    this.#pull.cancel()
  }
}

/** The named options that are set, so the downloader's defaults apply to the others. */
function pick<T extends object, K extends keyof T>(source: T, keys: K[]): Partial<Pick<T, K>> {
  const out: Partial<Pick<T, K>> = {}
  for (const key of keys) if (source[key] !== undefined) out[key] = source[key]
  return out
}
