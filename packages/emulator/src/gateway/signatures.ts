import { hmacMatches, hmacMethodOf } from '../signing/hmac.js'
import { signContent } from '../signing/sign-content.js'

export interface SignedIdentity {
  productKey: string
  deviceName: string
  clientId: string | undefined
  timestamp: string | undefined
  signMethod: unknown
  sign: unknown
}

/**
 * Verifies a topo add or login signature (docs/protocol.md §5): the HMAC, keyed with the
 * sub-device's secret, of `clientId…deviceName…productKey…timestamp…`, the parameters other than
 * sign, signMethod and cleanSession sorted by name. `clientId` is signed as the message carries it:
 * 3.x logs in with `${pk}.${dn}|_ss=1,_v=sdk-c-3.2.0|` and signs all of it. The sign method arrives
 * camel-cased (`hmacSha256`) from the C SDKs; any case is accepted, and so is hex in either case
 * (the C SDKs send upper case).
 */
export function verifySign(secret: string | undefined, signed: SignedIdentity): boolean {
  const method = hmacMethodOf(signed.signMethod)
  if (secret === undefined || method === undefined) return false
  const { clientId, deviceName, productKey, timestamp } = signed
  return hmacMatches(
    method,
    secret,
    signContent({ clientId, deviceName, productKey, timestamp }),
    signed.sign,
  )
}

/** A string field, or a number rendered as one (timestamps arrive both ways). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}
