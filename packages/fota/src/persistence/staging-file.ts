import { type FileHandle, open, rename } from 'node:fs/promises'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'
import { fsFailure, writeSidecar } from './file-state.js'
import { type FilePaths, removeStaged } from './file-targets.js'
import { assertContiguous } from './image.js'

/**
 * One file being received into its staging file: chunks are gathered into a write buffer
 * (network chunks are small; one write syscall each costs more than the copy) and written at
 * their offset. `held` counts every accepted byte, buffered ones included.
 */
export class StagingFile {
  readonly image: FirmwareImage
  readonly paths: FilePaths
  readonly #handle: FileHandle
  readonly #buffer: Buffer | undefined
  #held: number
  /** Bytes in the staging file. */
  #flushed: number
  #buffered = 0

  private constructor(
    image: FirmwareImage,
    paths: FilePaths,
    handle: FileHandle,
    held: number,
    bufferBytes: number,
  ) {
    this.image = image
    this.paths = paths
    this.#handle = handle
    this.#held = held
    this.#flushed = held
    this.#buffer = bufferBytes > 0 ? Buffer.allocUnsafe(bufferBytes) : undefined
  }

  /** Starts afresh: whatever was staged for this file goes, and the sidecar names `image` before any byte. */
  static async create(
    paths: FilePaths,
    image: FirmwareImage,
    options: { fsync: boolean; bufferBytes: number },
  ): Promise<StagingFile> {
    try {
      await removeStaged(paths)
      await writeSidecar(paths.sidecar, image, options.fsync)
      return new StagingFile(image, paths, await open(paths.part, 'w'), 0, options.bufferBytes)
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'opening the staging file', paths.part, error)
    }
  }

  /**
   * Resumes after the first `offset` bytes held in `from` (the staging file, or a file an earlier
   * attempt verified, which is staged again and verified again by the downloader).
   */
  static async resume(
    paths: FilePaths,
    image: FirmwareImage,
    from: string,
    offset: number,
    bufferBytes: number,
  ): Promise<StagingFile> {
    let handle: FileHandle | undefined
    try {
      if (from !== paths.part) await rename(from, paths.part)
      handle = await open(paths.part, 'r+')
      await handle.truncate(offset)
      return new StagingFile(image, paths, handle, offset, bufferBytes)
    } catch (error) {
      await handle?.close().catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'opening the staging file', paths.part, error)
    }
  }

  /** Bytes accepted so far. */
  get held(): number {
    return this.#held
  }

  /** Stores `chunk` at `offset`, which must continue the bytes held; never past the image size. */
  async write(chunk: Uint8Array, offset: number): Promise<void> {
    assertContiguous(offset, this.#held)
    if (this.#held + chunk.length > this.image.size) {
      throw new LinkkitError('ERR_PERSISTENCE_WRITE', `write past the ${this.image.size}-byte image`)
    }
    try {
      const buffer = this.#buffer
      if (buffer === undefined || chunk.length >= buffer.length) {
        await this.#flush()
        await this.#writeAll(chunk)
      } else {
        if (this.#buffered + chunk.length > buffer.length) await this.#flush()
        buffer.set(chunk, this.#buffered)
        this.#buffered += chunk.length
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE_WRITE', 'writing the staging file', this.paths.part, error)
    }
    this.#held += chunk.length
  }

  /** Writes the buffered bytes, syncs them to the disk when asked, and closes the file. */
  async close(sync: boolean): Promise<void> {
    try {
      await this.#flush()
      if (sync) await this.#handle.sync()
    } finally {
      await this.#handle.close()
    }
  }

  /** Closes the file without writing what is buffered (its bytes are about to be discarded). */
  async abandon(): Promise<void> {
    await this.#handle.close().catch(() => undefined)
  }

  async #flush(): Promise<void> {
    if (this.#buffer === undefined || this.#buffered === 0) return
    await this.#writeAll(this.#buffer.subarray(0, this.#buffered))
    this.#buffered = 0
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let done = 0
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(
        bytes,
        done,
        bytes.length - done,
        this.#flushed + done,
      )
      done += bytesWritten
    }
    this.#flushed += bytes.length
  }
}
