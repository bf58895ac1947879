import { createDigestHash } from '../digest-method.js'
import type { DigestMethod, FirmwareImage } from '../types.js'

/** Lowercase hex digest of `chunks` per `signMethod`. */
export function digestOf(signMethod: DigestMethod, chunks: Iterable<Uint8Array>): string {
  const hash = createDigestHash(signMethod)
  for (const chunk of chunks) hash.update(chunk)
  return hash.digest('hex')
}

/** Whether `bytes` hash to the image's digest. Hex case is irrelevant, as for the 4.x SDK. */
export function matchesDigest(image: FirmwareImage, chunks: Iterable<Uint8Array>): boolean {
  return digestOf(image.signMethod, chunks) === image.digest.toLowerCase()
}
