import { createHash, createPrivateKey, type KeyObject, sign } from 'node:crypto'
import { LinkkitError } from '@linkkit/core'

/** Key ids travel in `extData` and appear in a device's refusals: 1–64 printable characters. */
const KEY_ID = /^[\x21-\x7e]{1,64}$/
/** Security counters are kept in 32 bits by device adapters. */
const MAX_SECURITY_VERSION = 0xffff_ffff

/** What `addFirmware` signs with, checked. */
export interface FirmwareSigner {
  readonly keyId: string
  readonly algorithm: 'ed25519' | 'ecdsa-p256'
  readonly key: KeyObject
}

function invalid(message: string, field: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_ARGUMENT', message, { details: { field } })
}

/** Checks `signingKey` (a private Ed25519 or P-256 key, PEM or KeyObject) and `keyId`. */
export function firmwareSigner(signingKey: KeyObject | string, keyId: unknown): FirmwareSigner {
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    throw invalid('keyId must be 1-64 printable characters (it names the key on the device)', 'keyId')
  }
  let key: KeyObject
  try {
    key = typeof signingKey === 'string' ? createPrivateKey(signingKey) : signingKey
  } catch {
    throw invalid('signingKey must be a PEM private key', 'signingKey')
  }
  if (key?.type !== 'private') throw invalid('signingKey must be a private key', 'signingKey')
  if (key.asymmetricKeyType === 'ed25519') return { keyId, algorithm: 'ed25519', key }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { keyId, algorithm: 'ecdsa-p256', key }
  }
  throw invalid('signingKey must be an Ed25519 or ECDSA P-256 key', 'signingKey')
}

/** Checks `securityVersion`: an integer from 0 to 2^32-1. */
export function checkSecurityVersion(value: unknown): number {
  if (
    typeof value === 'number' &&
    Number.isSafeInteger(value) &&
    value >= 0 &&
    value <= MAX_SECURITY_VERSION
  ) {
    return value
  }
  throw invalid(`securityVersion must be an integer from 0 to ${MAX_SECURITY_VERSION}`, 'securityVersion')
}

/**
 * The signature of one image as devices check it (docs/ota.md, "Trust"): over the 32-byte
 * SHA-256 digest of the image, `crypto.sign(null, digest, key)` for Ed25519 and
 * `crypto.sign('sha256', digest, key)` (DER) for P-256, in base64.
 */
export function signImage(signer: FirmwareSigner, data: Uint8Array): string {
  const digest = createHash('sha256').update(data).digest()
  const algorithm = signer.algorithm === 'ed25519' ? null : 'sha256'
  return sign(algorithm, digest, signer.key).toString('base64')
}

/**
 * The `extData` fields of a signed package: `signature` for a single-file package, or
 * `fileSignatures` (file name → signature) for a multi-file one, with `signatureAlgorithm` and
 * `signatureKeyId`. They replace fields of the same name in the caller's `extData`.
 */
export function signatureFields(
  signer: FirmwareSigner,
  files: ReadonlyArray<{ name: string; data: Uint8Array }>,
  multiFile: boolean,
): Record<string, unknown> {
  const signatures = files.map((file) => [file.name, signImage(signer, file.data)] as const)
  return {
    ...(multiFile ? { fileSignatures: Object.fromEntries(signatures) } : { signature: signatures[0]?.[1] }),
    signatureAlgorithm: signer.algorithm,
    signatureKeyId: signer.keyId,
  }
}
