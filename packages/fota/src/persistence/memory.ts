import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import { matchesDigest } from './digest.js'
import { assertComplete, assertContiguous, assertImage } from './image.js'

/** Options of {@link MemoryPersistence}. */
export interface MemoryPersistenceOptions {
  /**
   * Largest image accepted; `start` refuses a bigger one with `ERR_PERSISTENCE` before any byte
   * is held, so a hostile offer cannot exhaust memory.
   * @default Number.POSITIVE_INFINITY
   */
  maxSizeBytes?: number
}

interface Staging {
  image: FirmwareImage
  chunks: Uint8Array[]
  held: number
}

interface Committed {
  image: FirmwareImage
  bytes: Uint8Array
}

/**
 * Keeps the firmware in memory: for tests, examples and images small enough to apply from RAM.
 * Chunks are copied as they arrive (the caller may reuse its buffer) and joined only at commit.
 * The committed image is replaced only by `stop({ ok: true })` after the size and digest check,
 * so `image` and `bytes()` never show an unverified image. Nothing survives the process, so it
 * does not offer `resumeOffset`.
 */
export class MemoryPersistence implements FirmwarePersistence {
  readonly #maxSizeBytes: number
  #staging: Staging | undefined
  #committed: Committed | undefined

  constructor(options: MemoryPersistenceOptions = {}) {
    const maxSizeBytes = options.maxSizeBytes ?? Number.POSITIVE_INFINITY
    if (!(maxSizeBytes >= 0)) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `maxSizeBytes must be >= 0, got ${maxSizeBytes}`)
    }
    this.#maxSizeBytes = maxSizeBytes
  }

  /** The last committed (verified) image, or undefined when none was committed. */
  get image(): FirmwareImage | undefined {
    return this.#committed?.image
  }

  /** A copy of the committed image's bytes, or undefined when none was committed. */
  bytes(): Uint8Array | undefined {
    const bytes = this.#committed?.bytes
    return bytes === undefined ? undefined : new Uint8Array(bytes)
  }

  start(image: FirmwareImage, offset: number): void {
    assertImage(image)
    if (image.size > this.#maxSizeBytes) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        `image of ${image.size} bytes exceeds maxSizeBytes ${this.#maxSizeBytes}`,
        { details: { size: image.size, maxSizeBytes: this.#maxSizeBytes } },
      )
    }
    if (offset !== 0) {
      throw new LinkkitError('ERR_PERSISTENCE', `memory persistence cannot resume at offset ${offset}`)
    }
    this.#staging = { image, chunks: [], held: 0 }
  }

  write(chunk: Uint8Array, offset: number): void {
    const staging = this.#staging
    if (staging === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    assertContiguous(offset, staging.held)
    if (chunk.length === 0) return
    if (staging.held + chunk.length > this.#maxSizeBytes) {
      throw new LinkkitError('ERR_PERSISTENCE_WRITE', `image grows past maxSizeBytes ${this.#maxSizeBytes}`)
    }
    // A copy: callers such as fetchYield-style loops reuse their buffer (and Buffer#slice is a view).
    staging.chunks.push(new Uint8Array(chunk))
    staging.held += chunk.length
  }

  stop(outcome: PersistenceOutcome): void {
    const staging = this.#staging
    this.#staging = undefined
    if (!outcome.ok) return
    if (staging === undefined) throw new LinkkitError('ERR_PERSISTENCE', 'stop({ ok: true }) without start')
    assertComplete(staging.image, staging.held)
    if (!matchesDigest(staging.image, staging.chunks)) {
      throw new LinkkitError('ERR_PERSISTENCE', 'staged bytes do not match the image digest; not committed')
    }
    this.#committed = { image: staging.image, bytes: new Uint8Array(Buffer.concat(staging.chunks)) }
  }
}
