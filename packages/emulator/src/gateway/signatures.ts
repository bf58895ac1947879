import { hexEquals, hmacHex, parseSignMethod, signContent } from '@linkkit/core'

export interface SignedIdentity {
  productKey: string
  deviceName: string
  clientId: string | undefined
  timestamp: string | undefined
  signMethod: unknown
  sign: unknown
}

/**
 * Verifies a topo add or login signature: HMAC(deviceSecret, "clientId…deviceName…productKey…timestamp…")
 * over the parameters other than sign, signMethod and cleanSession in alphabetical order (docs/protocol.md §5).
 * Sign methods arrive camel-cased (`hmacSha256`) from the C SDKs; any case is accepted.
 */
export function verifySign(secret: string | undefined, signed: SignedIdentity): boolean {
  const method = parseSignMethod(signed.signMethod)
  if (secret === undefined || method === undefined || typeof signed.sign !== 'string') return false
  const expected = hmacHex(
    method,
    secret,
    signContent({
      productKey: signed.productKey,
      deviceName: signed.deviceName,
      clientId: signed.clientId,
      timestamp: signed.timestamp,
    }),
  )
  return hexEquals(signed.sign, expected)
}

/** A string field, or a number rendered as one (timestamps arrive both ways). */
export function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (typeof value === 'number' && Number.isFinite(value)) return String(value)
  return undefined
}
