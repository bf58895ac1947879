import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'

/** Whether two descriptions name the same image, so bytes held for one may serve the other. */
export function sameImage(a: FirmwareImage, b: FirmwareImage): boolean {
  return (
    a.version === b.version &&
    a.size === b.size &&
    a.signMethod === b.signMethod &&
    a.digest.toLowerCase() === b.digest.toLowerCase() &&
    a.module === b.module &&
    a.name === b.name
  )
}

/** Refuses an image description no adapter can store (negative or fractional size, empty digest). */
export function assertImage(image: FirmwareImage): void {
  if (!Number.isSafeInteger(image.size) || image.size < 0) {
    throw new LinkkitError(
      'ERR_INVALID_ARGUMENT',
      `image size must be a non-negative integer, got ${image.size}`,
    )
  }
  if (typeof image.digest !== 'string' || image.digest.length === 0) {
    throw new LinkkitError('ERR_INVALID_ARGUMENT', 'image digest must be a non-empty hex string')
  }
}

/** Refuses a chunk that does not continue the bytes held so far (writes arrive strictly in file order). */
export function assertContiguous(offset: number, held: number): void {
  if (offset !== held) {
    throw new LinkkitError(
      'ERR_PERSISTENCE_WRITE',
      `write at offset ${offset} does not continue the ${held} bytes held (writes must be contiguous)`,
      { details: { offset, held } },
    )
  }
}

/** Refuses `stop({ ok: true })` when the held byte count differs from the announced size. */
export function assertComplete(image: FirmwareImage, held: number): void {
  if (held !== image.size) {
    throw new LinkkitError('ERR_PERSISTENCE', `cannot commit ${held} bytes of a ${image.size}-byte image`, {
      details: { held, size: image.size },
    })
  }
}
