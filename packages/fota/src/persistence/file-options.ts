import { join } from 'node:path'
import { booleanRule, integerOption, invalidOption, LinkkitError, requireOption } from '@linkkit/core'
import type { BootClock } from './boot-types.js'
import { isSafeName } from './file-targets.js'

/** Options of `FilePersistence`: `path` (one image) or `dir` (a file per name). */
export interface FilePersistenceOptions {
  /**
   * One-image mode: where the verified image ends up. While downloading, the bytes go to
   * `<path>.part` and the image they belong to to `<path>.part.json`, both in the same directory
   * so the final rename is atomic. The directory must exist. A multi-file offer is refused at its
   * first `start` (`ERR_PERSISTENCE`, `details.reason: 'multi-file'`, step -4), before any byte.
   * Give either `path` or `dir`.
   */
  path?: string
  /**
   * Directory mode: every file of an offer is stored as `<dir>/<file name>` (a single-file offer as
   * `<dir>/<imageName>`), staged in `<dir>/.linkkit-ota/`, and the files of a multi-file offer
   * replace the old ones together once the last one is verified. File names that could leave the
   * directory (a separator, a leading dot…) are refused at the first `start`. The directory must exist.
   */
  dir?: string
  /**
   * Directory mode: the file name a single-file offer (which names no file) is stored under.
   * @default 'firmware.bin'
   */
  imageName?: string
  /**
   * Flush the image to the disk before the rename and the directory after it, so a power loss
   * right after `stop({ ok: true })` leaves either the old or the new file, complete.
   * @default true
   */
  fsync?: boolean
  /**
   * Chunks are gathered into writes of this many bytes: network chunks are small (16–64 KiB) and
   * one write syscall each costs more than the copy. Two such buffers are used, one filling while
   * the other is written, so the disk write does not pause the download. A crash loses at most
   * twice this much of the staged download, which then resumes from what reached the file. 0 writes
   * every chunk as it comes.
   * @default 1048576
   */
  writeBufferBytes?: number
  /**
   * Keep the files a commit replaces (`<path>.previous`, or under `<dir>/.linkkit-ota/previous/`)
   * until the new image is confirmed, so an activated image can roll back. They are hard links
   * where the file system allows (no bytes copied; the old file's blocks stay in use until
   * confirm). `true` always, `false` never; by default from the first `boot()` on, so storage that
   * never uses trial boots behaves as before.
   * @default undefined (once `boot()` was called on this storage)
   */
  keepPrevious?: boolean
  /**
   * The clock of trial deadlines (`activate({ confirmWithinMs })`): `boot()` stamps the first boot
   * of an image on trial with it and rolls back once the deadline passed. Tests pass a fake one.
   * @default the system clock
   */
  clock?: BootClock
}

/** `FilePersistenceOptions` checked, with their defaults and the target's path. */
export interface ResolvedFileOptions {
  readonly path: string
  readonly dir: string | undefined
  readonly imageName: string
  readonly fsync: boolean
  readonly bufferBytes: number
  readonly keepPrevious: boolean | undefined
  readonly clock: BootClock
}

const systemBootClock: BootClock = Object.freeze({ now: () => Date.now() })

/** Checks the options once, at construction; throws `ERR_INVALID_OPTIONS` naming the bad one. */
export function resolveFileOptions(options: FilePersistenceOptions): ResolvedFileOptions {
  const { path, dir } = options ?? {}
  const given = (value: unknown) => typeof value === 'string' && value.length > 0
  if (given(path) === given(dir)) {
    throw new LinkkitError('ERR_INVALID_OPTIONS', 'FilePersistence needs either a non-empty `path` or `dir`')
  }
  const imageName = options.imageName ?? 'firmware.bin'
  if (!isSafeName(imageName)) {
    throw invalidOption('imageName', 'letters, digits and . _ - without a leading dot or a path separator')
  }
  const directory = given(dir) ? (dir as string) : undefined
  const keepPrevious =
    options.keepPrevious === undefined
      ? undefined
      : requireOption(options.keepPrevious, 'keepPrevious', booleanRule)
  const clock = options.clock ?? systemBootClock
  if (typeof clock?.now !== 'function') throw invalidOption('clock', 'an object with now()')
  return {
    path: directory === undefined ? (path as string) : join(directory, imageName),
    dir: directory,
    imageName,
    fsync: options.fsync ?? true,
    bufferBytes: integerOption(options.writeBufferBytes, 'writeBufferBytes', 1024 * 1024, { min: 0 }),
    keepPrevious,
    clock,
  }
}
