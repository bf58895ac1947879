import { createHash, type Hash } from 'node:crypto'
import { availableParallelism } from 'node:os'
import type { BodyRing } from '../download/body-ring.js'
import { DigestWorker, type DigestWorkerOptions } from './digest-worker.js'

/** A SHA-256 fed in order with an image's bytes, on a worker thread or on the calling one. */
export interface StreamDigest {
  /** Hashes `chunk`; a returned promise must settle before the next call. */
  update(chunk: Uint8Array): Promise<void> | undefined
  /** The digest of every byte given, once. */
  digest(): Promise<Buffer>
  /** Drops the digest (and its thread). Idempotent. */
  close(): void
  /** A ring for the download to read into, whose chunks are then hashed without a copy (a worker's). */
  readonly ring?: BodyRing | undefined
}

/** The calling thread's hash: no thread, no extra memory, its whole CPU time on the download's thread. */
class InlineDigest implements StreamDigest {
  readonly #hash: Hash

  constructor(algorithm: string) {
    this.#hash = createHash(algorithm)
  }

  update(chunk: Uint8Array): undefined {
    this.#hash.update(chunk)
    return undefined
  }

  async digest(): Promise<Buffer> {
    return this.#hash.digest()
  }

  close(): void {}
}

/**
 * Whether a second digest goes to a worker thread by default: only where a second core can run
 * it. On one core a worker would cost its memory (about 10 MiB) and the copies for no time saved.
 */
export function defaultDigestWorker(): boolean {
  return availableParallelism() > 1
}

/** The image's second digest, on a {@link DigestWorker} when `onWorker`, else inline. */
export function streamDigest(onWorker: boolean, options: DigestWorkerOptions = {}): StreamDigest {
  return onWorker ? new DigestWorker(options) : new InlineDigest(options.algorithm ?? 'sha256')
}
