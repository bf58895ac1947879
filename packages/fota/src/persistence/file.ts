import { createReadStream } from 'node:fs'
import { type FileHandle, open, rename, stat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import {
  fsFailure,
  fsyncDirectory,
  isMissing,
  readSidecar,
  removeStaging,
  writeSidecar,
} from './file-state.js'
import { assertComplete, assertContiguous, assertImage, sameImage } from './image.js'

/** Options of {@link FilePersistence}. */
export interface FilePersistenceOptions {
  /**
   * Where the verified image ends up. While downloading, the bytes go to `<path>.part` and the
   * image they belong to to `<path>.part.json`, both in the same directory so the final rename
   * is atomic. The directory must exist.
   */
  path: string
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
  handle: FileHandle
  /** Bytes accepted by write(), buffered ones included. */
  held: number
  /** Bytes in the staging file. */
  flushed: number
  buffer: Buffer | undefined
  buffered: number
}

/**
 * Writes the firmware to a file. The target is replaced only by an atomic rename after the
 * downloader verified the digest, so a failed or interrupted download leaves it untouched. A
 * download interrupted by a crash or restart resumes: `resumeOffset` answers the bytes held in
 * `<path>.part` when its sidecar names the same image, and `readBack` streams them for re-hashing.
 *
 * One instance per target path; two adapters must not share a path.
 */
export class FilePersistence implements FirmwarePersistence, AsyncDisposable {
  /** The target path of the verified image. */
  readonly path: string
  readonly #partPath: string
  readonly #sidecarPath: string
  readonly #fsync: boolean
  readonly #bufferBytes: number
  #session: Session | undefined

  constructor(options: FilePersistenceOptions) {
    if (typeof options?.path !== 'string' || options.path.length === 0) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'FilePersistence needs a non-empty `path`')
    }
    this.path = options.path
    this.#partPath = `${options.path}.part`
    this.#sidecarPath = `${options.path}.part.json`
    this.#fsync = options.fsync ?? true
    const bufferBytes = options.writeBufferBytes ?? 1024 * 1024
    if (!Number.isSafeInteger(bufferBytes) || bufferBytes < 0) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', 'writeBufferBytes must be a non-negative integer')
    }
    this.#bufferBytes = bufferBytes
  }

  async resumeOffset(image: FirmwareImage): Promise<number> {
    const sidecar = await readSidecar(this.#sidecarPath)
    if (sidecar === undefined || !sameImage(sidecar, image)) return 0
    try {
      const { size } = await stat(this.#partPath)
      return size <= image.size ? size : 0
    } catch (error) {
      if (isMissing(error)) return 0
      throw fsFailure('ERR_PERSISTENCE', 'inspecting the staging file', this.#partPath, error)
    }
  }

  async *readBack(image: FirmwareImage, length: number): AsyncIterable<Uint8Array> {
    const held = await this.resumeOffset(image)
    if (!(length <= held)) {
      throw new LinkkitError('ERR_PERSISTENCE', `cannot read back ${length} bytes, ${held} are held`)
    }
    if (length === 0) return
    try {
      for await (const chunk of createReadStream(this.#partPath, { start: 0, end: length - 1 })) {
        yield chunk as Buffer
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'reading back the staging file', this.#partPath, error)
    }
  }

  async start(image: FirmwareImage, offset: number): Promise<void> {
    assertImage(image)
    await this.close()
    if (offset > 0) {
      const held = await this.resumeOffset(image)
      if (offset > held) {
        throw new LinkkitError('ERR_PERSISTENCE', `cannot resume at ${offset}: ${held} bytes are held`)
      }
    }
    let handle: FileHandle
    try {
      if (offset > 0) {
        handle = await open(this.#partPath, 'r+')
        const opened = handle
        await opened.truncate(offset).catch(async (error: unknown) => {
          await opened.close().catch(() => undefined)
          throw error
        })
      } else {
        await removeStaging(this.#partPath, this.#sidecarPath)
        await writeSidecar(this.#sidecarPath, image, this.#fsync)
        handle = await open(this.#partPath, 'w')
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'opening the staging file', this.#partPath, error)
    }
    this.#session = {
      image,
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
      throw fsFailure('ERR_PERSISTENCE_WRITE', 'writing the staging file', this.#partPath, error)
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
      await this.#discard(session)
      return
    }
    try {
      assertComplete(session.image, session.held)
      await this.#flush(session)
      if (this.#fsync) await session.handle.sync()
      await session.handle.close()
      await rename(this.#partPath, this.path)
      if (this.#fsync) await fsyncDirectory(dirname(this.path))
      await removeStaging(this.#partPath, this.#sidecarPath)
    } catch (error) {
      // Refused or failed: drop the staging area so nothing unverified lingers; the target stays as it was.
      await this.#discard(session).catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'committing the image', this.path, error)
    }
  }

  async #discard(session: Session): Promise<void> {
    await session.handle.close().catch(() => undefined)
    try {
      await removeStaging(this.#partPath, this.#sidecarPath)
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'discarding the staging file', this.#partPath, error)
    }
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

async function writeAll(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done)
    done += bytesWritten
  }
}
