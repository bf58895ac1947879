import type { FotaOptions } from '../fota-options.js'
import type { FirmwareOffer, FirmwarePersistence } from '../types.js'
import { type FileSignature, offerSignatures } from './offer-signature.js'
import { assertSecurityVersion, assertSecurityVersionOption } from './security-version.js'
import { TrustKeys } from './trust-keys.js'

/** What an offer that passed the checks carries into the download. */
export interface Admission {
  /** The signature of each file, when the module trusts keys. */
  signatures: FileSignature[] | undefined
  /** The offer's security version, when it named one (the adapter keeps it with the image). */
  securityVersion: number | undefined
}

/**
 * The checks an offer passes before any byte is fetched: its security version against the
 * module's minimum (the configured one, or the adapter's counter when higher), then, when the
 * module trusts keys, a well-formed signature per file by a trusted key. A module inherits
 * `firmware.trust` unless it names its own; its minimum is its own (`modules[name].securityVersion`).
 */
export class OfferTrust {
  readonly #deviceKeys: TrustKeys | undefined
  readonly #defaultMinimum: number
  /** The keys and minimum of each declared module; no map at all for a device that declares none (most). */
  readonly #modules: Map<string, { keys: TrustKeys | undefined; minimum: number }> | undefined

  /** Validates the trusted keys and minimums; throws `ERR_INVALID_OPTIONS`. */
  constructor(options: FotaOptions) {
    this.#deviceKeys =
      options.trust === undefined ? undefined : new TrustKeys(options.trust, 'firmware.trust')
    this.#defaultMinimum = assertSecurityVersionOption(options.securityVersion, 'firmware.securityVersion')
    const modules = Object.entries(options.modules ?? {})
    if (modules.length === 0) return
    this.#modules = new Map()
    for (const [name, fw] of modules) {
      const field = `firmware.modules.${name}`
      this.#modules.set(name, {
        keys: fw.trust === undefined ? this.#deviceKeys : new TrustKeys(fw.trust, `${field}.trust`),
        minimum: assertSecurityVersionOption(fw.securityVersion, `${field}.securityVersion`),
      })
    }
  }

  /** Whether images of `module` must be signed. */
  signed(module: string): boolean {
    return this.#keysOf(module) !== undefined
  }

  /**
   * Throws `ERR_ROLLBACK_REFUSED` (or `ERR_OFFER_INVALID` for a malformed security version),
   * `ERR_SIGNATURE_MISSING` or `ERR_SIGNATURE_INVALID`; returns what the download needs.
   */
  async admit(offer: FirmwareOffer, persistence: FirmwarePersistence): Promise<Admission> {
    const module = offer.module ?? 'default'
    const counter = persistence.bootState === undefined ? 0 : (await persistence.bootState()).securityVersion
    const declared = this.#modules?.get(module)?.minimum
    const minimum = Math.max(declared ?? (module === 'default' ? this.#defaultMinimum : 0), counter)
    const securityVersion = assertSecurityVersion(offer, minimum)
    const keys = this.#keysOf(module)
    return {
      signatures: keys === undefined ? undefined : offerSignatures(offer, keys),
      securityVersion: offer.extData?.securityVersion === undefined ? undefined : securityVersion,
    }
  }

  #keysOf(module: string): TrustKeys | undefined {
    const declared = this.#modules?.get(module)
    return declared === undefined ? this.#deviceKeys : declared.keys
  }
}
