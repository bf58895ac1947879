import { createHash, createPrivateKey, generateKeyPairSync, type KeyObject, sign } from 'node:crypto'
import { CliError, UsageError } from './errors.js'

/** The signature algorithms of firmware images (docs/ota.md, "Trust"). */
export type KeyAlgorithm = 'ed25519' | 'ecdsa-p256'

/** Reads a private signing key (PEM) and names its algorithm; refuses other key types. */
export function signingKey(pem: string, what: string): { key: KeyObject; algorithm: KeyAlgorithm } {
  let key: KeyObject
  try {
    key = createPrivateKey(pem)
  } catch {
    throw new UsageError(`${what} is not a PEM private key`)
  }
  if (key.asymmetricKeyType === 'ed25519') return { key, algorithm: 'ed25519' }
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return { key, algorithm: 'ecdsa-p256' }
  }
  throw new UsageError(`${what} must be an Ed25519 or ECDSA P-256 key, got ${key.asymmetricKeyType}`)
}

/**
 * The `extData` fields of an image signed as devices check it: the signature over the 32-byte
 * SHA-256 digest of the image (`crypto.sign(null, digest)` for Ed25519, `crypto.sign('sha256',
 * digest)` for P-256), in base64, with its algorithm and key id.
 */
export function signatureExtData(
  data: Uint8Array,
  signer: { key: KeyObject; algorithm: KeyAlgorithm },
  keyId: string,
): Record<string, string> {
  const digest = createHash('sha256').update(data).digest()
  const signature = sign(signer.algorithm === 'ed25519' ? null : 'sha256', digest, signer.key)
  return {
    signature: signature.toString('base64'),
    signatureAlgorithm: signer.algorithm,
    signatureKeyId: keyId,
  }
}

/** A new key pair as PEM: the private half (PKCS#8) and the public one (SPKI). */
export function generateSigningKeys(algorithm: KeyAlgorithm): { privatePem: string; publicPem: string } {
  const { privateKey, publicKey } =
    algorithm === 'ed25519'
      ? generateKeyPairSync('ed25519')
      : generateKeyPairSync('ec', { namedCurve: 'prime256v1' })
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
  const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString()
  if (privatePem.length === 0 || publicPem.length === 0) throw new CliError('key generation failed')
  return { privatePem, publicPem }
}
