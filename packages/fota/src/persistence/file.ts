import { rename } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage, FirmwarePersistence, PersistenceOutcome } from '../types.js'
import type { ActivateOptions, BootResult, BootState, StorageCapacity } from './boot-types.js'
import { assertOfferHeld, type HeldBytes, heldBytes, readHeld } from './file-held.js'
import { trialFileOf } from './file-kept.js'
import { type FilePersistenceOptions, resolveFileOptions } from './file-options.js'
import { fsFailure, fsyncDirectory } from './file-state.js'
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
  stagingDirName,
} from './file-targets.js'
import { FileTrial } from './file-trial.js'
import { assertComplete, assertImage } from './image.js'
import { type OfferPosition, offerPosition, refuseMultiFile } from './offer-set.js'
import { StagingFile } from './staging-file.js'

export type { FilePersistenceOptions } from './file-options.js'

interface Session {
  staging: StagingFile
  position: OfferPosition
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
 * Trial boots, as an A/B flash has them: once `boot()` is called at start (or with
 * `keepPrevious: true`), a commit keeps the files it replaces (`<path>.previous`, or under
 * `<dir>/.linkkit-ota/previous/`) until the new image is confirmed; `activate()` puts it on trial
 * for `confirmWithinBoots` boots (and `confirmWithinMs` from its first boot, by `clock`), `boot()`
 * counts them and puts the kept files back when either is spent without `confirm()`, as
 * `rollBack()` does at once; `confirm()` drops the kept files and raises the security counter. The
 * state lives in `<path>.boot.json` (`<dir>/.linkkit-ota/boot.json`).
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
  readonly #trial: FileTrial
  #session: Session | undefined

  constructor(options: FilePersistenceOptions) {
    const resolved = resolveFileOptions(options)
    this.#imageName = resolved.imageName
    this.dir = resolved.dir
    this.path = resolved.path
    this.#fsync = resolved.fsync
    this.#bufferBytes = resolved.bufferBytes
    this.#trial = new FileTrial({
      statePath:
        this.dir === undefined ? `${this.path}.boot.json` : join(this.dir, stagingDirName, 'boot.json'),
      fsync: this.#fsync,
      keepPrevious: resolved.keepPrevious,
      clock: resolved.clock,
      fileOf: trialFileOf(this.path, this.dir),
      finishInterruptedCommit: () => this.recover(),
    })
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
    yield* readHeld(await this.#held(image), length)
  }

  /** The bytes held for `image` and the file holding them (the staging file, or a verified one). */
  async #held(image: FirmwareImage): Promise<HeldBytes> {
    const paths = this.#pathsOf(image)
    await this.recover()
    return heldBytes(paths, image)
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
    await this.#trial.assertDownloadAllowed()
    if (this.dir !== undefined) {
      await this.recover()
      await ensureStaging(this.dir)
      if (position.index === 0) {
        await removeStagedExcept(this.dir, position.count > 1 ? position.names : [this.#nameOf(image)])
      }
    }
    const options = { fsync: this.#fsync, bufferBytes: this.#bufferBytes }
    let staging: StagingFile
    if (offset > 0) {
      const held = await this.#held(image)
      if (offset > held.bytes || held.file === undefined) {
        throw new LinkkitError('ERR_PERSISTENCE', `cannot resume at ${offset}: ${held.bytes} bytes are held`)
      }
      staging = await StagingFile.resume(paths, image, held.file, offset, this.#bufferBytes)
    } else {
      staging = await StagingFile.create(paths, image, options)
    }
    this.#session = { staging, position }
  }

  async write(chunk: Uint8Array, offset: number): Promise<void> {
    const session = this.#session
    if (session === undefined) throw new LinkkitError('ERR_PERSISTENCE_WRITE', 'write before start')
    await session.staging.write(chunk, offset)
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
    const { paths, image } = session.staging
    try {
      assertComplete(image, session.staging.held)
      await session.staging.close(this.#fsync)
      if (this.dir === undefined) {
        await this.#trial.beforeCommit(image, [this.#nameOf(image)])
        await rename(paths.part, paths.target)
        if (this.#fsync) await fsyncDirectory(dirname(paths.target))
        await this.#trial.afterCommit()
        await removeStaged(paths)
        return
      }
      await rename(paths.part, paths.verified as string)
      if (session.position.index < session.position.count - 1) return
      await assertOfferHeld(this.dir, this.#offerNames(session), image)
    } catch (error) {
      // Refused or failed: drop the staging area so nothing unverified lingers; the target stays as it was.
      await this.#trial.abortCommit().catch(() => undefined)
      await this.#discard(session).catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'committing the image', paths.target, error)
    }
    try {
      await this.#trial.beforeCommit(image, this.#offerNames(session))
      await commitFiles(this.dir, this.#offerNames(session), this.#fsync)
      await this.#trial.afterCommit()
    } catch (error) {
      // Nothing is discarded: once the journal is in place the next call finishes the commit.
      throw fsFailure('ERR_PERSISTENCE', 'committing the offer', this.dir, error)
    }
  }

  /**
   * Puts the committed image on trial for `confirmWithinBoots` boots (default 1). Throws
   * `ERR_PERSISTENCE` when nothing committed waits, or when the files it replaced were not kept.
   */
  activate(options: ActivateOptions = {}): Promise<FirmwareImage> {
    return this.#trial.activate(options)
  }

  /**
   * The bootloader's step, once per start before the image runs (a launcher, or the first thing
   * the application does, restarting when it answers `rolledBack`). From the first call on,
   * commits keep the files they replace. Counts a boot of the image on trial; when its boots are
   * spent without `confirm()`, puts the kept files back and answers `rolledBack: true`.
   */
  boot(): Promise<BootResult> {
    return this.#trial.boot()
  }

  /** What runs (as far as this adapter committed it), a trial, an unreported rollback, the security counter. */
  bootState(): Promise<BootState> {
    return this.#trial.bootState()
  }

  /** Keeps the running trial image: drops the kept files and raises the security counter. */
  confirm(): Promise<void> {
    return this.#trial.confirm()
  }

  /**
   * Rolls the running trial image back now, as a boot past its deadline would (a device calls it
   * when `confirmWithinMs` runs out while the image runs): the kept files are put back and
   * `bootState()` reports the rollback. Restart afterwards. Does nothing when no trial runs.
   */
  rollBack(): Promise<void> {
    return this.#trial.rollBack()
  }

  /** Forgets the rollback `bootState()` reported. */
  rollbackReported(): Promise<void> {
    return this.#trial.rollbackReported()
  }

  /** The file system's size and free space where the files live. */
  capacity(): Promise<StorageCapacity> {
    return this.#trial.capacity()
  }

  #offerNames(session: Session): readonly string[] {
    return session.position.count > 1 ? session.position.names : [this.#nameOf(session.staging.image)]
  }

  /** Interrupted: the bytes so far are sound, so they stay (written and, with fsync, synced) for a resume. */
  async #keep(session: Session): Promise<void> {
    try {
      await session.staging.close(this.#fsync)
    } catch (error) {
      await this.#discard(session).catch(() => undefined)
      throw fsFailure('ERR_PERSISTENCE', 'keeping the staging file', session.staging.paths.part, error)
    }
  }

  /** Refused: this file's bytes go, and with them every file of the offer verified so far. */
  async #discard(session: Session): Promise<void> {
    await session.staging.abandon()
    const { paths } = session.staging
    try {
      await removeStaged(paths)
      if (this.dir !== undefined) {
        for (const name of session.position.names) await removeStaged(dirPaths(this.dir, name))
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
    await session?.staging.close(false)
  }

  /** Same as `close()`, for `await using`. */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }
}
