import { verify } from 'node:crypto'
import { LinkkitError } from '@linkkit/core'
import type { BodyRing } from '../download/body-ring.js'
import type { FirmwareFile } from '../types.js'
import type { DigestWorkerOptions } from './digest-worker.js'
import type { FileSignature } from './offer-signature.js'
import { type StreamDigest, streamDigest } from './stream-digest.js'

/**
 * The signature check of one file, kept apart from the download: the signed message is the
 * 32-byte SHA-256 digest of the whole image. When the offer's own digest is SHA-256 the
 * downloader already computes it, and that (verified) digest is reused; for an MD5 offer this tap
 * hashes the same bytes as they pass (held bytes re-read on resume, then each chunk before it
 * is stored), by default on a worker thread (a `DigestWorker`) that reads the download's own
 * ring in place, so the second digest runs beside the download rather than on its thread; the image is never held in memory. `verify` runs once,
 * after the last byte and the digest check, before anything is committed; `close` ends the worker
 * on every other path.
 */
export class SignatureTap {
  readonly #file: FirmwareFile
  readonly #signature: FileSignature
  readonly #sha256: StreamDigest | undefined

  /** `digest` tunes the worker; the defaults suit a download (tests use small batches, or an unknown algorithm to make the thread fail). */
  constructor(file: FirmwareFile, signature: FileSignature, digest?: DigestWorkerOptions) {
    this.#file = file
    this.#signature = signature
    this.#sha256 =
      file.signMethod === 'SHA256'
        ? undefined
        : streamDigest(signature.digestWorker ?? true, {
            algorithm: 'sha256',
            expectedBytes: file.size,
            ...digest,
          })
  }

  /**
   * The ring the download should read into: with the SHA-256 on a worker, the chunks it lends are
   * hashed in place, with no copy on the download's thread. `undefined` otherwise.
   */
  get ring(): BodyRing | undefined {
    return this.#sha256?.ring
  }

  /**
   * Feeds bytes in file order (a no-op when the offer's digest is already SHA-256). Returns a
   * promise when the worker is behind; await it before the next `update`. Rejects (or throws)
   * `ERR_DIGEST_WORKER` when the worker failed.
   */
  update(chunk: Uint8Array): Promise<void> | undefined {
    return this.#sha256?.update(chunk)
  }

  /**
   * Checks the signature over the image's SHA-256 digest; `digestHex` is the offer's verified
   * digest. Rejects with `ERR_SIGNATURE_INVALID` (`details.reason: 'mismatch'`) when it does not
   * verify, `ERR_DIGEST_WORKER` when the worker failed.
   */
  async verify(digestHex: string): Promise<void> {
    const digest = this.#sha256 === undefined ? Buffer.from(digestHex, 'hex') : await this.#sha256.digest()
    const { key, signature } = this.#signature
    if (verifies(key.algorithm, digest, key.key, signature)) return
    const file = this.#file.name === undefined ? 'the image' : `file ${this.#file.name}`
    throw new LinkkitError(
      'ERR_SIGNATURE_INVALID',
      `the signature of ${file} does not verify with key ${key.id}`,
      { details: { reason: 'mismatch', keyId: key.id, algorithm: key.algorithm, file: this.#file.name } },
    )
  }

  /** Ends the worker (a failed, aborted or abandoned download). Idempotent. */
  close(): void {
    this.#sha256?.close()
  }
}

/**
 * Ed25519 signs the digest itself (`crypto.sign(null, digest, key)`); P-256 signs it as
 * `crypto.sign('sha256', digest, key)` does, hashing the 32 bytes once more, in DER (Node,
 * `openssl pkeyutl -rawin -digest sha256`, `openssl dgst -sha256 -sign`) or raw r‖s (Web Crypto).
 */
function verifies(
  algorithm: FileSignature['key']['algorithm'],
  digest: Buffer,
  key: FileSignature['key']['key'],
  signature: Buffer,
): boolean {
  const attempt = (dsaEncoding: 'der' | 'ieee-p1363') => {
    try {
      return algorithm === 'ed25519'
        ? verify(null, digest, key, signature)
        : verify('sha256', digest, { key, dsaEncoding }, signature)
    } catch {
      return false
    }
  }
  if (attempt('der')) return true
  return algorithm === 'ecdsa-p256' && signature.length === 64 && attempt('ieee-p1363')
}
