import { createReadStream } from 'node:fs'
import { type FileHandle, open, rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import { fsFailure, fsyncDirectory, readSidecar, writeSidecar } from './file-state.js'
import {
  assertFileName,
  commitFiles,
  dirPaths,
  ensureStaging,
  type FilePaths,
  recoverCommit,
  removeStaged,
  removeStagedExcept,
  singlePaths,
  sizeOf,
} from './file-targets.js'
import { assertComplete, assertContiguous, assertImage, sameImage } from './image.js'
import { type OfferPosition, offerPosition, refuseMultiFile } from './offer-set.js'

/** Options of {@link FilePersistence}: `path` (one image) or `dir` (a file per name). */
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
   * one write syscall each costs more than the copy. A crash loses at most this much of the staged
   * download, which then resumes from what reached the file. 0 writes every chunk as it comes.
   * @default 1048576
   */
  writeBufferBytes?: number
}

interface Session {
  image: FirmwareImage
  paths: FilePaths
  position: OfferPosition
  handle: FileHandle
  /** Bytes accepted by write(), buffered ones included. */
  held: number
  /** Bytes in the staging file. */
  flushed: number
  buffer: Buffer | undefined
  buffered: number
}

/**
 * Writes the firmware to files. A target is replaced only by an atomic rename after the
 * downloader verified the digest, so a failed or interrupted download leaves it untouched.
 *
 * Bytes of an interrupted download (`stop({ ok: false, resumable: true })`, a crash, a restart)
 * are kept: `resumeOffset` answers the bytes held in the staging file when its sidecar names the
 * same image, and `readBack` streams them for re-hashing, so the next download fetches only the
 * rest. A refused download (`resumable: false`) discards them.
 *
 * With `path` it holds one image. With `dir` it holds a file per name: a multi-file offer (an
 * application and its resources, say) lands as one file each, and the offer replaces the files of
 * the previous one only once every file is verified; a crash part-way through that replacement is
 * finished by the next instance (see {@link FilePersistence.recover}).
 *
 * One instance per target; two adapters must not share a path or a directory.
 */
export class FilePersistence implements FirmwarePersistence, AsyncDisposable {
  /** The target of a single-file offer: `path`, or `<dir>/<imageName>` in directory mode. */
  readonly path: string
  /** The directory of directory mode; undefined in one-image mode. */
  readonly dir: string | undefined
  readonly #imageName: string
  readonly #fsync: boolean
  readonly #bufferBytes: number
  #session: Session | undefined

  constructor(options: FilePersistenceOptions) {
    const { path, dir } = options ?? {}
    const given = (value: unknown) => typeof value === 'string' && value.length > 0
    if (given(path) === given(dir)) {
      throw new LinkkitError(
        'ERR_INVALID_OPTIONS',
        'FilePersistence needs either a non-empty `path` or `dir`',
      )
    }
    this.#imageName = options.imageName ?? 'firmware.bin'
    assertFileNameOption(this.#imageName)
    this.dir = dir === undefined || dir.length === 0 ? undefined : dir
    this.path = this.dir === undefined ? (path as string) : join(this.dir, this.#imageName)
    this.#fsync = options.fsync ?? true
    const bufferBytes = options.writeBufferBytes ?? 1024 * 1024
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 0) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'writeBufferBytes must be a non-negative integer')
    }
    this.#bufferBytes = bufferBytes
  }

  /**
   * Directory mode: finishes replacing the files of a multi-file offer when a crash interrupted
   * it, so the directory holds every file of one offer. Every other method does it first; call it
   * yourself at start-up before reading the files. Does nothing in one-image mode.
   */
  async recover(): Promise<void> {
    if (this.dir !== undefined) await recoverCommit(this.dir, this.#fsync)
  }

  async resumeOffset(image: FirmwareImage): Promise<number> {
    if (this.dir === undefined && (image.files?.length ?? 0) > 1) return 0
    return (await this.#held(image)).bytes
  }

  async *readBack(image: FirmwareImage, length: number): AsyncIterable<Uint8Array> {
    const held = await this.#held(image)
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

  /** The bytes held for `image` and the file holding them (the staging file, or a verified one). */
  async #held(image: FirmwareImage): Promise<{ bytes: number; file: string | undefined }> {
    const paths = this.#pathsOf(image)
    await this.recover()
    const sidecar = await readSidecar(paths.sidecar)
    if (sidecar === undefined || !sameImage(sidecar, image)) return { bytes: 0, file: undefined }
    if (paths.verified !== undefined) {
      const verified = await sizeOf(paths.verified)
      if (verified !== undefined) {
        return verified === image.size
          ? { bytes: verified, file: paths.verified }
          : { bytes: 0, file: undefined }
      }
    }
    const part = await sizeOf(paths.part)
    return part !== undefined && part <= image.size
      ? { bytes: part, file: paths.part }
      : { bytes: 0, file: undefined }
  }

  async start(image: FirmwareImage, offset: number): Promise<void> {
    assertImage(image)
    const position = offerPosition(image)
    if (this.dir === undefined) {
      refuseMultiFile(
        image,
        'FilePersistence({ path })',
        'Use FilePersistence({ dir }) to store a file per name.',
      )
    } else {
      for (const name of position.names) assertFileName(name)
    }
    const paths = this.#pathsOf(image)
    await this.close()
    if (this.dir !== undefined) {
      await this.recover()
      await ensureStaging(this.dir)
      if (position.index === 0) {
        await removeStagedExcept(this.dir, position.count > 1 ? position.names : [this.#nameOf(image)])
      }
    }
    let handle: FileHandle
    if (offset > 0) {
      const held = await this.#held(image)
      if (offset > held.bytes) {
        throw new LinkkitError('ERR_PERSISTENCE', `cannot resume at ${offset}: ${held.bytes} bytes are held`)
      }
      try {
        // A file verified by an earlier attempt is staged again, and verified again by the downloader.
        if (held.file !== paths.part) await rename(held.file as string, paths.part)
        handle = await open(paths.part, 'r+')
        const opened = handle
        await opened.truncate(offset).catch(async (error: unknown) => {
          await opened.close().catch(() => undefined)
          throw error
        })
      } catch (error) {
        throw fsFailure('ERR_PERSISTENCE', 'opening the staging file', paths.part, error)
      }
    } else {
      try {
        await removeStaged(paths)
        await writeSidecar(paths.sidecar, image, this.#fsync)
        handle = await open(paths.part, 'w')
      } catch (error) {
        throw fsFailure('ERR_PERSISTENCE', 'opening the staging file', paths.part, error)
      }
    }
    this.#session = {
      image,
      paths,
      position,
      handle,
      held: offset,
      flushed: offset,
      buffer: this.#bufferBytes > 0 ? Buffer.allocUnsafe(this.#bufferBytes) : undefined,
      buffered: 0,
    }
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    const session = this.#session
    if (session === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    assertContiguous(offset, session.held)
    if (session.held + chunk.length > session.image.size) {
      throw new LinkkitError('ERR_PERSISTENCE_WRITE', `write past the ${session.image.size}-byte image`)
    }
    try {
      const buffer = session.buffer
      if (buffer === undefined || chunk.length >= buffer.length) {
        await this.#flush(session)
        await writeAll(session.handle, chunk, session.flushed)
        session.flushed += chunk.length
      } else {
        if (session.buffered + chunk.length > buffer.length) await this.#flush(session)
        buffer.set(chunk, session.buffered)
        session.buffered += chunk.length
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE_WRITE', 'writing the staging file', session.paths.part, error)
    }
    session.held += chunk.length
  }

  async #flush(session: Session): Promise<void> {
    if (session.buffer === undefined || session.buffered === 0) return
    await writeAll(session.handle, session.buffer.subarray(0, session.buffered), session.flushed)
    session.flushed += session.buffered
    session.buffered = 0
  }

  async stop(outcome: PersistenceOutcome): Promise<void> {
    const session = this.#session
    this.#session = undefined
    if (session === undefined) {
      if (outcome.ok) throw new LinkkitError('ERR_PERSISTENCE', 'stop({ ok: true }) without start')
      return
    }
    if (!outcome.ok) {
      if (outcome.resumable) await this.#keep(session)
      else await this.#discard(session)
      return
    }
    try {
      assertComplete(session.image, session.held)
      await this.#flush(session)
      if (this.#fsync) await session.handle.sync()
      await session.handle.close()
      if (this.dir === undefined) {
        await rename(session.paths.part, session.paths.target)
        if (this.#fsync) await fsyncDirectory(dirname(session.paths.target))
        await removeStaged(session.paths)
        return
      }
      await rename(session.paths.part, session.paths.verified as string)
      if (session.position.index < session.position.count - 1) return
      await this.#assertOfferHeld(session)
    } catch (error) {
      // Refused or failed: drop the staging area so nothing unverified lingers; the target stays as it was.
      await this.#discard(session).catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'committing the image', session.paths.target, error)
    }
    try {
      await commitFiles(this.dir, this.#offerNames(session), this.#fsync)
    } catch (error) {
      // Nothing is discarded: once the journal is in place the next call finishes the commit.
      throw fsFailure('ERR_PERSISTENCE', 'committing the offer', this.dir, error)
    }
  }

  #offerNames(session: Session): readonly string[] {
    return session.position.count > 1 ? session.position.names : [this.#nameOf(session.image)]
  }

  /** Every earlier file of the offer must be verified and waiting, or the offer is not committed at all. */
  async #assertOfferHeld(session: Session): Promise<void> {
    const { image } = session
    for (const [i, name] of this.#offerNames(session).entries()) {
      const paths = dirPaths(this.dir as string, name)
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

  /** Interrupted: the bytes so far are sound, so they stay (flushed and, with fsync, synced) for a resume. */
  async #keep(session: Session): Promise<void> {
    try {
      await this.#flush(session)
      if (this.#fsync) await session.handle.sync()
    } catch (error) {
      await this.#discard(session).catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'keeping the staging file', session.paths.part, error)
    }
    await session.handle.close().catch(() => undefined)
  }

  /** Refused: this file's bytes go, and with them every file of the offer verified so far. */
  async #discard(session: Session): Promise<void> {
    await session.handle.close().catch(() => undefined)
    const { paths, position } = session
    try {
      await removeStaged(paths)
      if (this.dir !== undefined) {
        for (const name of position.names) await removeStaged(dirPaths(this.dir, name))
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'discarding the staging file', paths.part, error)
    }
  }

  #nameOf(image: FirmwareImage): string {
    return image.name ?? this.#imageName
  }

  #pathsOf(image: FirmwareImage): FilePaths {
    if (this.dir === undefined) return singlePaths(this.path)
    const name = this.#nameOf(image)
    assertFileName(name)
    return dirPaths(this.dir, name)
  }

  /**
   * Releases the open staging file without committing or discarding it, as a crash would: the
   * bytes stay resumable. Idempotent.
   */
  async close(): Promise<void> {
    const session = this.#session
    this.#session = undefined
    if (session === undefined) return
    try {
      await this.#flush(session)
    } finally {
      await session.handle.close()
    }
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}

function assertFileNameOption(name: string): void {
  try {
    assertFileName(name)
  } catch (error) {
    throw new LinkkitError('ERR_INVALID_OPTIONS', `imageName: ${(error as Error).message}`)
  }
}

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done)
    done += bytesWritten
  }
}
