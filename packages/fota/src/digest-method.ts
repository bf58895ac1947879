import { createHash, type Hash } from 'node:crypto'
import type { DigestMethod } from './types.js'

/**
 * Node's hash and the hex length of each digest method: the one place a method picks its hash
 * (MD5 or SHA-256, docs/protocol.md §3.3). Everything that hashes an image or checks a digest asks here.
 */
const DIGESTS = {
  Md5: { algorithm: 'md5', hexLength: 32 },
  SHA256: { algorithm: 'sha256', hexLength: 64 },
} as const satisfies Record<DigestMethod, { algorithm: string; hexLength: number }>

/**
 * Reads a wire spelling of a digest method: older docs and 3.x say `Md5`, newer docs `MD5`, 4.x
 * accepts `SHA256`/`Sha256` (docs/protocol.md §3.3, §7). Anything else is `undefined`, refused
 * rather than guessed.
 */
export function parseDigestMethod(value: unknown): DigestMethod | undefined {
  if (typeof value !== 'string') return undefined
  const lower = value.toLowerCase()
  if (lower === 'md5') return 'Md5'
  if (lower === 'sha256') return 'SHA256'
  return undefined
}

/** Whether `value` is a `DigestMethod` exactly as linkkit spells it (`Md5`, `SHA256`), e.g. in stored state. */
export function isDigestMethod(value: unknown): value is DigestMethod {
  return value === 'Md5' || value === 'SHA256'
}

/** A fresh incremental hash for `method`. */
export function createDigestHash(method: DigestMethod): Hash {
  return createHash(DIGESTS[method].algorithm)
}

/** Hex characters of a digest of `method` (32 for MD5, 64 for SHA-256). */
export function digestHexLength(method: DigestMethod): number {
  return DIGESTS[method].hexLength
}

/** Whether `value` is a hex digest of `method`'s length, in either case (4.x ignores the case). */
export function isHexDigest(method: DigestMethod, value: unknown): value is string {
  return (
    typeof value === 'string' && value.length === DIGESTS[method].hexLength && /^[0-9a-fA-F]*$/.test(value)
  )
}
