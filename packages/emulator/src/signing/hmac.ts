import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The HMACs a device may sign with (docs/protocol.md §1.2, §1.4, §5), named as the clientId's
 * `signmethod` spells them. The gateway messages of the C SDKs camel-case them (`hmacSha256`).
 */
export type HmacMethod = 'hmacmd5' | 'hmacsha1' | 'hmacsha256'

/** node:crypto's digest name and the hex length of each HMAC. */
const ALGORITHMS: Readonly<Record<HmacMethod, { digest: string; hexLength: number }>> = Object.freeze({
  hmacmd5: { digest: 'md5', hexLength: 32 },
  hmacsha1: { digest: 'sha1', hexLength: 40 },
  hmacsha256: { digest: 'sha256', hexLength: 64 },
})

/** Every HMAC, in the order of their hex lengths. */
export const HMAC_METHODS: readonly HmacMethod[] = Object.freeze(['hmacmd5', 'hmacsha1', 'hmacsha256'])

/** The method a wire value names, in any letter case (`hmacSha256` from the C SDKs); else undefined. */
export function hmacMethodOf(value: unknown): HmacMethod | undefined {
  if (typeof value !== 'string') return undefined
  const lower = value.toLowerCase()
  return HMAC_METHODS.find((method) => method === lower)
}

/** The method whose hex digest is `length` characters long. */
export function hmacMethodOfLength(length: number): HmacMethod | undefined {
  return HMAC_METHODS.find((method) => ALGORITHMS[method].hexLength === length)
}

const HEX = /^[0-9a-f]+$/i

/**
 * Whether `given` is the hex HMAC of `content` keyed with `key`. The hex may be upper case (the C
 * SDKs) or lower case (Node, crypto-js): the platform compares without regard to case (§1.2). The
 * bytes are compared in constant time; anything that is not hex of the method's length fails.
 */
export function hmacMatches(method: HmacMethod, key: string, content: string, given: unknown): boolean {
  const { digest, hexLength } = ALGORITHMS[method]
  if (typeof given !== 'string' || given.length !== hexLength || !HEX.test(given)) return false
  const expected = createHmac(digest, Buffer.from(key, 'utf8')).update(content, 'utf8').digest()
  return timingSafeEqual(expected, Buffer.from(given, 'hex'))
}
