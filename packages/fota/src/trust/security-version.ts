import { integerOption, LinkkitError } from '@linkkit/core'
import type { FirmwareOffer } from '../types.js'

/** The largest security version: adapters store the counter in 32 bits. */
export const MAX_SECURITY_VERSION = 0xffff_ffff

function valid(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0 && value <= MAX_SECURITY_VERSION
}

/**
 * The offer's `extData.securityVersion`: a non-negative integer (a JSON number, or a string of
 * digits as a console field may hold it), 0 when absent. Anything else is `ERR_OFFER_INVALID`.
 */
export function offerSecurityVersion(offer: FirmwareOffer): number {
  const raw = offer.extData?.securityVersion
  if (raw === undefined) return 0
  const value = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : raw
  if (typeof value === 'number' && valid(value)) return value
  throw new LinkkitError(
    'ERR_OFFER_INVALID',
    `firmware ${offer.version}: extData.securityVersion must be an integer from 0 to ${MAX_SECURITY_VERSION}`,
    { details: { reason: 'security-version', field: 'extData.securityVersion' } },
  )
}

/** Checks a configured minimum (`firmware.securityVersion`); throws `ERR_INVALID_OPTIONS`. */
export function assertSecurityVersionOption(value: unknown, field: string): number {
  return integerOption(value, field, 0, { min: 0, max: MAX_SECURITY_VERSION })
}

/**
 * Anti-rollback: refuses an offer whose security version is below `minimum` with
 * `ERR_ROLLBACK_REFUSED` (reported as step -1, before any byte is fetched). Returns the offer's
 * security version. Plain version numbers may go down; this counter may not.
 */
export function assertSecurityVersion(offer: FirmwareOffer, minimum: number): number {
  const securityVersion = offerSecurityVersion(offer)
  if (securityVersion >= minimum) return securityVersion
  throw new LinkkitError(
    'ERR_ROLLBACK_REFUSED',
    `firmware ${offer.version}: security version ${securityVersion} is below the minimum ${minimum}`,
    {
      details: {
        version: offer.version,
        securityVersion,
        minimum,
        ...(offer.module === undefined ? {} : { module: offer.module }),
      },
    },
  )
}
