import { LinkkitError, type LinkkitErrorCode } from '@linkkit/core'
import { offerFiles } from '../offer.js'
import type { FirmwareFile, FirmwareOffer } from '../types.js'
import type { SignatureAlgorithm, TrustedKey, TrustKeys } from './trust-keys.js'

/** The signature of one file of an offer, read from `extData` and matched with a trusted key. */
export interface FileSignature {
  /** The trusted key it names. */
  readonly key: TrustedKey
  /** The decoded signature bytes. */
  readonly signature: Buffer
  /** Whether an MD5 offer's SHA-256 is computed on a worker thread (`FirmwareTrust.digestWorker`). */
  readonly digestWorker?: boolean
}

const ALGORITHMS: ReadonlySet<string> = new Set<SignatureAlgorithm>(['ed25519', 'ecdsa-p256'])
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/
/** A P-256 DER signature is at most 72 bytes; 512 base64 characters leave room and bound the work. */
const MAX_SIGNATURE_CHARS = 512

function refusal(code: LinkkitErrorCode, reason: string, desc: string, offer: FirmwareOffer): LinkkitError {
  return new LinkkitError(code, `firmware ${offer.version}: ${desc}`, {
    details: {
      reason,
      version: offer.version,
      ...(offer.module === undefined ? {} : { module: offer.module }),
    },
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Base64 (whitespace ignored, as `openssl base64` wraps lines) of a plausible signature length. */
function decode(value: string, algorithm: SignatureAlgorithm): Buffer | undefined {
  const text = value.replace(/\s+/g, '')
  if (text.length === 0 || text.length > MAX_SIGNATURE_CHARS || text.length % 4 !== 0 || !BASE64.test(text))
    return undefined
  const bytes = Buffer.from(text, 'base64')
  // Ed25519: 64 bytes. P-256: DER (8–72 bytes, as crypto.sign and openssl write it) or raw r‖s (64, Web Crypto).
  const plausible = algorithm === 'ed25519' ? bytes.length === 64 : bytes.length >= 8 && bytes.length <= 72
  return plausible ? bytes : undefined
}

/**
 * Where the signature of `file` lives: `extData.signature` for a single-file offer, and
 * `extData.fileSignatures[file name]` for each file of a multi-file offer (the platform lets an
 * operator set only the package's `extData`, so every signature rides there).
 */
function signatureText(offer: FirmwareOffer, file: FirmwareFile): unknown {
  const extData = offer.extData ?? {}
  if (offer.files === undefined) return extData.signature
  const perFile = extData.fileSignatures
  return isRecord(perFile) && file.name !== undefined && Object.hasOwn(perFile, file.name)
    ? perFile[file.name]
    : undefined
}

/**
 * Reads and checks the signature of every file of `offer` against the trusted `keys`, before
 * any byte is fetched. Throws `ERR_SIGNATURE_MISSING` (no signature, no key id, a file left
 * unsigned) or `ERR_SIGNATURE_INVALID` (malformed, an unknown algorithm or key id, an algorithm
 * that is not the key's), each with `details.reason` and a message fit for the progress `desc`.
 */
export function offerSignatures(offer: FirmwareOffer, keys: TrustKeys): FileSignature[] {
  const extData = offer.extData ?? {}
  const multi = offer.files !== undefined
  const where = multi ? 'extData.fileSignatures' : 'extData.signature'
  if (!multi && extData.signature === undefined) {
    throw refusal('ERR_SIGNATURE_MISSING', 'no-signature', 'not signed (no extData.signature)', offer)
  }
  if (multi && !isRecord(extData.fileSignatures)) {
    throw refusal('ERR_SIGNATURE_MISSING', 'no-signature', 'not signed (no extData.fileSignatures)', offer)
  }
  const keyId = extData.signatureKeyId
  if (keyId === undefined) {
    throw refusal(
      'ERR_SIGNATURE_MISSING',
      'no-key-id',
      'signature names no key (no extData.signatureKeyId)',
      offer,
    )
  }
  if (typeof keyId !== 'string') {
    throw refusal('ERR_SIGNATURE_INVALID', 'malformed', 'extData.signatureKeyId is not a string', offer)
  }
  const key = keys.get(keyId)
  if (key === undefined) {
    const shown = JSON.stringify(keyId.slice(0, 40))
    throw refusal('ERR_SIGNATURE_INVALID', 'unknown-key', `signed by unknown key id ${shown}`, offer)
  }
  const named = extData.signatureAlgorithm
  if (named !== undefined && (typeof named !== 'string' || !ALGORITHMS.has(named))) {
    // Only a string is shown: String() of a wire object whose `toString` is not a function throws.
    const shown = typeof named === 'string' ? JSON.stringify(named.slice(0, 20)) : `of type ${typeof named}`
    throw refusal('ERR_SIGNATURE_INVALID', 'algorithm', `unsupported signatureAlgorithm ${shown}`, offer)
  }
  if (named !== undefined && named !== key.algorithm) {
    throw refusal(
      'ERR_SIGNATURE_INVALID',
      'algorithm',
      `signatureAlgorithm ${named} does not match key ${keyId} (${key.algorithm})`,
      offer,
    )
  }
  return offerFiles(offer).map((file) => {
    const text = signatureText(offer, file)
    const label = file.name === undefined ? where : `${where}[${JSON.stringify(file.name.slice(0, 40))}]`
    if (text === undefined) {
      throw refusal('ERR_SIGNATURE_MISSING', 'file-unsigned', `${label} is missing`, offer)
    }
    const signature = typeof text === 'string' ? decode(text, key.algorithm) : undefined
    if (signature === undefined) {
      throw refusal(
        'ERR_SIGNATURE_INVALID',
        'malformed',
        `${label} is not a base64 ${key.algorithm} signature`,
        offer,
      )
    }
    return { key, signature, digestWorker: keys.digestWorker }
  })
}
