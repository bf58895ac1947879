import { type FileHandle, open, rename } from 'node:fs/promises'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'
import { fsFailure, writeSidecar } from './file-state.js'
import { type FilePaths, removeStaged } from './file-targets.js'
import { assertContiguous } from './image.js'

/**
 * One file being received into its staging file: chunks are gathered into a write buffer
 * (network chunks are small; one write syscall each costs more than the copy) and written at
 * their offset. There are two buffers: while one is being written, the next fills, so the disk
 * write overlaps the download instead of pausing it (docs/performance.md, "FOTA"). At most one
 * write is in flight; a failed one surfaces at the next `write` or at `close`. `held` counts every
 * accepted byte, buffered ones included.
 */
export class StagingFile {
  readonly image: FirmwareImage
  readonly paths: FilePaths
  readonly #handle: FileHandle
  readonly #buffers: [Buffer, Buffer] | undefined
  #active: 0 | 1 = 0
  #held: number
  /** Bytes in the staging file, or on their way there (the write in flight). */
  #flushed: number
  #buffered = 0
  /** The write in flight; it never rejects (a failure lands in `#failure`). */
  #inFlight: Promise<void> | undefined
  #failure: LinkkitError | undefined

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
    this.#buffers =
      bufferBytes > 0 ? [Buffer.allocUnsafe(bufferBytes), Buffer.allocUnsafe(bufferBytes)] : undefined
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
    const buffer = this.#buffers?.[this.#active]
    if (buffer === undefined || chunk.length >= buffer.length) {
      await this.#flush()
      await this.#settle()
      try {
        await this.#writeAt(chunk, this.#flushed)
      } catch (error) {
        throw fsFailure('ERR_PERSISTENCE_WRITE', 'writing the staging file', this.paths.part, error)
      }
      this.#flushed += chunk.length
    } else {
      if (this.#buffered + chunk.length > buffer.length) await this.#flush()
      if (this.#failure !== undefined) throw this.#failure
      // The active buffer, which #flush may just have switched.
      const target = this.#buffers?.[this.#active] as Buffer
      target.set(chunk, this.#buffered)
      this.#buffered += chunk.length
    }
    this.#held += chunk.length
  }

  /** Writes the buffered bytes, syncs them to the disk when asked, and closes the file. */
  async close(sync: boolean): Promise<void> {
    try {
      await this.#flush()
      await this.#settle()
      if (sync) await this.#handle.sync()
    } finally {
      await this.#handle.close()
    }
  }

  /** Closes the file without writing what is buffered (its bytes are about to be discarded). */
  async abandon(): Promise<void> {
    await this.#inFlight
    await this.#handle.close().catch(() => undefined)
  }

  /** Waits for the write in flight; rejects with its failure. */
  async #settle(): Promise<void> {
    await this.#inFlight
    if (this.#failure !== undefined) throw this.#failure
  }

  /**
   * Starts writing the active buffer once the previous write is done, and switches to the other
   * buffer: the caller goes on filling it while this one is written.
   */
  async #flush(): Promise<void> {
    if (this.#buffers === undefined || this.#buffered === 0) return
    await this.#settle()
    const bytes = this.#buffers[this.#active].subarray(0, this.#buffered)
    const position = this.#flushed
    this.#flushed += bytes.length
    this.#active = this.#active === 0 ? 1 : 0
    this.#buffered = 0
    this.#inFlight = this.#writeAt(bytes, position).then(
      () => {
        this.#inFlight = undefined
      },
      (error: unknown) => {
        this.#inFlight = undefined
        this.#failure = fsFailure('ERR_PERSISTENCE_WRITE', 'writing the staging file', this.paths.part, error)
      },
    )
  }

  async #writeAt(bytes: Uint8Array, position: number): Promise<void> {
    let done = 0
    while (done < bytes.length) {
      const { bytesWritten } = await this.#handle.write(bytes, done, bytes.length - done, position + done)
      done += bytesWritten
    }
  }
}
