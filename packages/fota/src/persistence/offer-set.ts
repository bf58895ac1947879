import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'

/** Where a file stands in its offer: its index and whether its verified commit completes the offer. */
export interface OfferPosition {
  /** Index of the file within the offer; 0 for a single-file offer. */
  readonly index: number
  /** Number of files in the offer (1 for a single-file offer). */
  readonly count: number
  /** The names of every file of the offer, in download order (empty for a single-file offer). */
  readonly names: readonly string[]
  /** Bytes of the whole offer. */
  readonly totalBytes: number
}

/** Where `image` stands in its offer; throws ERR_PERSISTENCE when it is not one of the offer's files. */
export function offerPosition(image: FirmwareImage): OfferPosition {
  const files = image.files
  if (files === undefined || files.length === 0) {
    return { index: 0, count: 1, names: [], totalBytes: image.size }
  }
  const index = files.findIndex((f) => f.name === image.name)
  if (index < 0) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      `file ${JSON.stringify(image.name)} is not one of the offer's files`,
      { details: { reason: 'not-in-offer', name: image.name } },
    )
  }
  return {
    index,
    count: files.length,
    names: files.map((f) => f.name),
    totalBytes: files.reduce((sum, f) => sum + f.size, 0),
  }
}

/** The refusal of an adapter that holds one image, at the first `start` of a multi-file offer. */
export function refuseMultiFile(image: FirmwareImage, adapter: string, hint: string): void {
  const files = image.files
  if (files === undefined || files.length <= 1) return
  throw new LinkkitError(
    'ERR_PERSISTENCE',
    `${adapter} holds one image; this offer has ${files.length} files (${files
      .map((f) => f.name)
      .join(', ')
      .slice(0, 200)}). ${hint}`,
    { details: { reason: 'multi-file', files: files.length } },
  )
}

/** The refusal of an offer larger than the adapter holds, at `start`, before any byte. */
export function tooLarge(size: number, limit: number, what: string, files = 1): LinkkitError {
  const subject = files > 1 ? `offer of ${files} files, ${size} bytes,` : `image of ${size} bytes`
  return new LinkkitError('ERR_PERSISTENCE', `${subject} exceeds ${what} ${limit}`, {
    details: { reason: 'too-large', size, limit },
  })
}
