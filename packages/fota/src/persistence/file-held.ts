import { createReadStream } from 'node:fs'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'
import { fsFailure, readSidecar } from './file-state.js'
import { dirPaths, type FilePaths, sizeOf } from './file-targets.js'
import { sameImage } from './image.js'

/** What `FilePersistence` holds of an image: a byte count and the file holding them. */
export interface HeldBytes {
  readonly bytes: number
  readonly file: string | undefined
}

const nothing: HeldBytes = { bytes: 0, file: undefined }

/**
 * The bytes held for `image` (its sidecar names it): a verified file of the whole size, or the
 * staging file up to the image's size; nothing otherwise.
 */
export async function heldBytes(paths: FilePaths, image: FirmwareImage): Promise<HeldBytes> {
  const sidecar = await readSidecar(paths.sidecar)
  if (sidecar === undefined || !sameImage(sidecar, image)) return nothing
  if (paths.verified !== undefined) {
    const verified = await sizeOf(paths.verified)
    if (verified !== undefined)
      return verified === image.size ? { bytes: verified, file: paths.verified } : nothing
  }
  const part = await sizeOf(paths.part)
  return part !== undefined && part <= image.size ? { bytes: part, file: paths.part } : nothing
}

/** Streams the first `length` held bytes, for re-hashing before a resume. */
export async function* readHeld(held: HeldBytes, length: number): AsyncIterable<Uint8Array> {
  if (!(length <= held.bytes)) {
    throw new LinkkitError('ERR_PERSISTENCE', `cannot read back ${length} bytes, ${held.bytes} are held`)
  }
  if (length === 0 || held.file === undefined) return
  try {
    for await (const chunk of createReadStream(held.file, { start: 0, end: length - 1 })) {
      yield chunk as Buffer
    }
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'reading back the staging file', held.file, error)
  }
}

/**
 * Directory mode, before the last file of an offer commits: every file of the offer must be
 * verified and waiting, or nothing is committed at all.
 */
export async function assertOfferHeld(
  dir: string,
  names: readonly string[],
  image: FirmwareImage,
): Promise<void> {
  for (const [i, name] of names.entries()) {
    const paths = dirPaths(dir, name)
    const sidecar = await readSidecar(paths.sidecar)
    const size = paths.verified === undefined ? undefined : await sizeOf(paths.verified)
    const expected = image.files?.[i]?.size ?? image.size
    if (
      sidecar === undefined ||
      sidecar.version !== image.version ||
      sidecar.module !== image.module ||
      size !== expected
    ) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        `file ${name} of the offer is not verified; nothing committed`,
        {
          details: { reason: 'incomplete-offer', name },
        },
      )
    }
  }
}
