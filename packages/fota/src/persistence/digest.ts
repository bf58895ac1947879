import { createHash, type Hash } from 'node:crypto'
import type { FirmwareImage, SignMethod } from '../types.js'

const algorithms = { Md5: 'md5', SHA256: 'sha256' } as const satisfies Record<SignMethod, string>

/** A fresh incremental hash for the offer's sign method (MD5 or SHA-256, docs/protocol.md §3.3). */
export function createImageHash(signMethod: SignMethod): Hash {
  return createHash(algorithms[signMethod])
}

/** Lowercase hex digest of `chunks` per `signMethod`. */
export function digestOf(signMethod: SignMethod, chunks: Iterable<Uint8Array>): string {
  const hash = createImageHash(signMethod)
  for (const chunk of chunks) hash.update(chunk)
  return hash.digest('hex')
}

/** Whether `bytes` hash to the image's digest. Hex case is irrelevant, as for the 4.x SDK. */
export function matchesDigest(image: FirmwareImage, chunks: Iterable<Uint8Array>): boolean {
  return digestOf(image.signMethod, chunks) === image.digest.toLowerCase()
}
