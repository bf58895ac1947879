import { copyFile, link, mkdir, rename, rm, statfs } from 'node:fs/promises'
import { dirname } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'
import type { ActivateOptions, BootResult, BootState, StorageCapacity } from './boot-types.js'
import { confirmBudget } from './confirm-budget.js'
import {
  type BootFile,
  emptyBootFile,
  type PreviousSet,
  readBootFile,
  writeBootFile,
} from './file-boot-state.js'
import { fsFailure, isMissing } from './file-state.js'
import { sizeOf } from './file-targets.js'

/** Where one target file, its kept previous copy and its staged bytes live. */
export interface TrialFile {
  readonly target: string
  readonly previous: string
  /** The file that exists until the commit renames it over the target (`.part` or `.verified`). */
  readonly staged: string
}

/** How `FileTrial` finds its files: the boot state, and each target by name. */
export interface TrialLayout {
  readonly statePath: string
  readonly fsync: boolean
  /**
   * Keep the files a commit replaces, so an activated image can roll back: `true` always,
   * `false` never, undefined once trial boots are in use here (`boot()` was called, so the boot
   * file exists).
   */
  readonly keepPrevious: boolean | undefined
  fileOf(name: string): TrialFile
  /** Finishes a multi-file commit a crash interrupted (its journal), before the boot state is judged. */
  finishInterruptedCommit(): Promise<void>
}

const exists = async (path: string) => (await sizeOf(path)) !== undefined

/**
 * Trial boots for `FilePersistence`, as an A/B flash has them: at a commit the files it replaces
 * are kept (hard links, so no bytes are copied) until the new image is confirmed; `activate()`
 * puts the new image on trial for `confirmWithinBoots` boots, counted by `boot()`; a boot past
 * them without `confirm()` puts the kept files back. The state and the security counter live in a
 * boot file replaced whole by a rename, and every step that renames writes its intent first, so
 * a crash anywhere is finished or undone by the next call.
 */
export class FileTrial {
  readonly #layout: TrialLayout

  constructor(layout: TrialLayout) {
    this.#layout = layout
  }

  /** Refuses a download while an image on trial runs: confirm it or let it roll back first. */
  async assertDownloadAllowed(): Promise<void> {
    const state = await this.#load()
    if (state.trial?.booted === true) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        'a trial image is running: confirm() it or reboot to roll back first',
      )
    }
  }

  /** Before the renames of a commit: keep the files they replace, and note the commit. */
  async beforeCommit(image: FirmwareImage, names: readonly string[]): Promise<void> {
    const found = await this.#read()
    // Trial boots never used here, and not asked for: a commit is what it always was.
    if (found === undefined && this.#layout.keepPrevious !== true) return
    const state = found ?? emptyBootFile()
    // An activated image that never booted is superseded; the confirmed copies stay the previous ones.
    const superseding = state.trial !== undefined && state.previous !== undefined
    let previous: PreviousSet | undefined = superseding ? state.previous : undefined
    if (!superseding && this.#layout.keepPrevious !== false) {
      previous = { image: state.current?.image, names: await this.#present(names) }
    }
    state.committing = { image, names: [...names], previous, superseding }
    await this.#save(state)
    if (!superseding) await this.#keep(previous)
  }

  /** The renames of a commit failed before they started: the targets still hold the current files. */
  async abortCommit(): Promise<void> {
    const state = await readBootFile(this.#layout.statePath)
    if (state?.committing === undefined) return
    await this.#undoCommit(state)
    await this.#save(state)
  }

  /** After the renames of a commit: the new files are current, on no trial until activated. */
  async afterCommit(): Promise<void> {
    const state = await this.#read()
    if (state?.committing === undefined) return
    this.#finishCommit(state)
    await this.#save(state)
  }

  /** Puts the committed image on trial for `confirmWithinBoots` boots. */
  async activate(options: ActivateOptions = {}): Promise<FirmwareImage> {
    const boots = confirmBudget(options)
    const state = await this.#load()
    if (state.trial?.booted === true) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        'a trial image is running: confirm() it or reboot to roll back first',
      )
    }
    if (state.current === undefined || (state.trial === undefined && state.previous === undefined)) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        state.current === undefined
          ? 'no committed image to activate'
          : 'nothing to roll back to: the image is confirmed, or the previous files were not kept (keepPrevious)',
      )
    }
    state.trial = { booted: false, extraBoots: boots - 1 }
    await this.#save(state)
    return state.current.image
  }

  /** The bootloader's step: counts a trial boot, or rolls back when the trial's boots are spent. */
  async boot(): Promise<BootResult> {
    const found = await this.#read()
    const state = found ?? emptyBootFile()
    // From the first boot on, commits keep the files they replace (unless keepPrevious: false).
    if (found === undefined) await this.#save(state)
    const trial = state.trial
    if (trial !== undefined && !(trial.booted && trial.extraBoots === 0)) {
      state.trial = trial.booted
        ? { booted: true, extraBoots: trial.extraBoots - 1 }
        : { ...trial, booted: true }
      await this.#save(state)
      return { version: state.current?.image.version, rolledBack: false }
    }
    if (trial === undefined) return { version: state.current?.image.version, rolledBack: false }
    state.rollingBack = true
    await this.#save(state)
    await this.#rollBack(state)
    await this.#save(state)
    return { version: state.current?.image.version, rolledBack: true }
  }

  /** Keeps the running trial image, drops the kept files and raises the security counter. */
  async confirm(): Promise<void> {
    const state = await this.#load()
    if (state.trial === undefined) return
    if (!state.trial.booted) {
      throw new LinkkitError(
        'ERR_PERSISTENCE',
        'the activated image has not booted yet: boot() before confirm()',
      )
    }
    const previous = state.previous
    state.securityVersion = Math.max(state.securityVersion, state.current?.image.securityVersion ?? 0)
    state.trial = undefined
    state.previous = undefined
    await this.#save(state)
    await this.#dropKept(previous?.names ?? [])
  }

  async bootState(): Promise<BootState> {
    const state = await this.#load()
    const current = state.current?.image
    return {
      version: current?.version,
      trial:
        state.trial?.booted === true && current !== undefined
          ? {
              version: current.version,
              securityVersion: current.securityVersion ?? 0,
              bootsLeft: state.trial.extraBoots,
              fallbackVersion: state.previous?.image?.version,
            }
          : undefined,
      rolledBack: state.rolledBack,
      securityVersion: state.securityVersion,
    }
  }

  async rollbackReported(): Promise<void> {
    const state = await this.#load()
    if (state.rolledBack === undefined) return
    state.rolledBack = undefined
    await this.#save(state)
  }

  /** The file system's room, from `statfs` of the directory the files live in. */
  async capacity(): Promise<StorageCapacity> {
    const dir = dirname(this.#layout.statePath)
    try {
      const fs = await statfs(dir)
      return { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'reading the free space', dir, error)
    }
  }

  /** The boot state, fresh when trial boots were never used here. */
  async #load(): Promise<BootFile> {
    return (await this.#read()) ?? emptyBootFile()
  }

  /** Reads the boot file and finishes what a crash interrupted (a commit or a rollback). */
  async #read(): Promise<BootFile | undefined> {
    await this.#layout.finishInterruptedCommit()
    const state = await readBootFile(this.#layout.statePath)
    if (state === undefined) return undefined
    const committing = state.committing
    if (committing !== undefined) {
      const staged = await Promise.all(
        committing.names.map((name) => exists(this.#layout.fileOf(name).staged)),
      )
      if (staged.some(Boolean)) await this.#undoCommit(state)
      else this.#finishCommit(state)
      await this.#save(state)
    }
    if (state.rollingBack) {
      await this.#rollBack(state)
      await this.#save(state)
    }
    return state
  }

  /** The renames never started, so the targets still hold the current files: keep them (again). */
  async #undoCommit(state: BootFile): Promise<void> {
    const committing = state.committing
    if (committing === undefined) return
    state.committing = undefined
    state.previous = committing.previous
    if (!committing.superseding) await this.#keep(committing.previous)
  }

  #finishCommit(state: BootFile): void {
    const committing = state.committing
    if (committing === undefined) return
    state.current = { image: committing.image, names: committing.names }
    state.previous = committing.previous
    state.committing = undefined
    state.trial = undefined
  }

  /** Puts the kept files back (idempotent, so a crash part-way is finished by running it again). */
  async #rollBack(state: BootFile): Promise<void> {
    const kept = new Set(state.previous?.names ?? [])
    try {
      for (const name of state.current?.names ?? []) {
        const file = this.#layout.fileOf(name)
        if (!kept.has(name)) await rm(file.target, { force: true })
      }
      for (const name of kept) {
        const file = this.#layout.fileOf(name)
        if (await exists(file.previous)) await rename(file.previous, file.target)
      }
    } catch (error) {
      throw fsFailure('ERR_PERSISTENCE', 'rolling back', this.#layout.statePath, error)
    }
    state.rolledBack = { version: state.current?.image.version }
    const image = state.previous?.image
    state.current = image === undefined ? undefined : { image, names: [...kept] }
    state.previous = undefined
    state.trial = undefined
    state.rollingBack = false
  }

  async #present(names: readonly string[]): Promise<string[]> {
    const present: string[] = []
    for (const name of names) if (await exists(this.#layout.fileOf(name).target)) present.push(name)
    return present
  }

  /** Links each target to its previous copy (a copy where links are not possible). */
  async #keep(previous: PreviousSet | undefined): Promise<void> {
    for (const name of previous?.names ?? []) {
      const file = this.#layout.fileOf(name)
      try {
        await mkdir(dirname(file.previous), { recursive: true })
        await rm(file.previous, { force: true })
        await link(file.target, file.previous).catch(async (error: NodeJS.ErrnoException) => {
          if (isMissing(error)) throw error
          await copyFile(file.target, file.previous)
        })
      } catch (error) {
        throw fsFailure('ERR_PERSISTENCE', 'keeping the previous image', file.target, error)
      }
    }
  }

  async #dropKept(names: readonly string[]): Promise<void> {
    for (const name of names) await rm(this.#layout.fileOf(name).previous, { force: true })
  }

  async #save(state: BootFile): Promise<void> {
    await writeBootFile(this.#layout.statePath, state, this.#layout.fsync)
  }
}
