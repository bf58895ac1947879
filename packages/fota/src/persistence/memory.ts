import { LinkkitError, numberOption } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import { matchesDigest } from './digest.js'
import { assertComplete, assertContiguous, assertImage } from './image.js'
import { offerPosition, tooLarge } from './offer-set.js'

/** Default of {@link MemoryPersistenceOptions.maxSizeBytes}: 64 MiB. */
export const MEMORY_PERSISTENCE_MAX_BYTES = 64 * 1024 * 1024

/** Options of {@link MemoryPersistence}. */
export interface MemoryPersistenceOptions {
  /**
   * Largest offer accepted, all files of a multi-file offer together. `start` refuses a bigger
   * one with `ERR_PERSISTENCE` (`details.reason: 'too-large'`, step -4) before any byte is
   * fetched, so a hostile offer cannot exhaust memory. `Number.POSITIVE_INFINITY` lifts the limit.
   * @default 67108864 (64 MiB)
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
 * so `image` and `bytes()` never show an unverified image.
 *
 * A multi-file offer is held whole: each file is verified as it arrives and kept aside, and the
 * offer replaces the committed one only when its last file is verified (`bytes(name)` reads each
 * file), so a failure part-way leaves the previous offer in place. Nothing survives the process,
 * and interrupted bytes are not kept (re-fetching a RAM-sized image is cheap, holding it after a
 * failure is not), so it does not offer `resumeOffset`.
 */
export class MemoryPersistence implements FirmwarePersistence {
  readonly #maxSizeBytes: number
  #staging: Staging | undefined
  /** Verified files of the multi-file offer being received, before its last file. */
  #pending: Committed[] = []
  #committed: Committed[] = []

  constructor(options: MemoryPersistenceOptions = {}) {
    const maxSizeBytes = numberOption(options.maxSizeBytes, 'maxSizeBytes', MEMORY_PERSISTENCE_MAX_BYTES)
    this.#maxSizeBytes = maxSizeBytes
  }

  /** The committed (verified) image, the first file of a multi-file offer; undefined when none was committed. */
  get image(): FirmwareImage | undefined {
    return this.#committed[0]?.image
  }

  /** Every file of the committed offer, in offer order (one for a single-file offer). */
  get images(): FirmwareImage[] {
    return this.#committed.map((c) => c.image)
  }

  /**
   * A copy of the committed bytes: of the file called `name` of a multi-file offer, or without a
   * name of the committed image (the first file). Undefined when there is no such file.
   */
  bytes(name?: string): Uint8Array | undefined {
    const file = name === undefined ? this.#committed[0] : this.#committed.find((c) => c.image.name === name)
    return file === undefined ? undefined : new Uint8Array(file.bytes)
  }

  start(image: FirmwareImage, offset: number): void {
    assertImage(image)
    const position = offerPosition(image)
    if (position.totalBytes > this.#maxSizeBytes) {
      throw tooLarge(position.totalBytes, this.#maxSizeBytes, 'maxSizeBytes', position.count)
    }
    if (offset !== 0) {
      throw new LinkkitError('ERR_PERSISTENCE', `memory persistence cannot resume at offset ${offset}`)
    }
    const verified = this.#pending.map((p) => p.image.name)
    const expected = position.names.slice(0, position.index)
    if (position.index === 0) {
      this.#pending = []
    } else if (verified.length !== expected.length || verified.some((name, i) => name !== expected[i])) {
      this.#pending = []
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        `file ${position.index + 1} of the offer arrived before files 1–${position.index} were verified`,
      )
    }
    this.#staging = { image, chunks: [], held: 0 }
  }

  write(chunk: Uint8Array, offset: number): void {
    const staging = this.#staging
    if (staging === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    assertContiguous(offset, staging.held)
    if (chunk.length === 0) return
    if (staging.held + chunk.length > Math.min(staging.image.size, this.#maxSizeBytes)) {
      throw new LinkkitError(
        'ERR_PERSISTENCE_WRITE',
        `write past the ${staging.image.size}-byte image (maxSizeBytes ${this.#maxSizeBytes})`,
      )
    }
    // A copy: callers such as fetchYield-style loops reuse their buffer (and Buffer#slice is a view).
    staging.chunks.push(new Uint8Array(chunk))
    staging.held += chunk.length
  }

  stop(outcome: PersistenceOutcome): void {
    const staging = this.#staging
    this.#staging = undefined
    if (!outcome.ok) {
      this.#pending = []
      return
    }
    if (staging === undefined) throw new LinkkitError('ERR_PERSISTENCE', 'stop({ ok: true }) without start')
    try {
      assertComplete(staging.image, staging.held)
      if (!matchesDigest(staging.image, staging.chunks)) {
        throw new LinkkitError('ERR_PERSISTENCE', 'staged bytes do not match the image digest; not committed')
      }
    } catch (error) {
      this.#pending = []
      throw error
    }
    const file = { image: staging.image, bytes: new Uint8Array(Buffer.concat(staging.chunks)) }
    const { index, count } = offerPosition(staging.image)
    if (index < count - 1) {
      this.#pending.push(file)
      return
    }
    this.#committed = [...this.#pending, file]
    this.#pending = []
  }
}
