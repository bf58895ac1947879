import { dirname } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../types.js'
import type { ActivateOptions, BootClock, BootResult, BootState, StorageCapacity } from './boot-types.js'
import { trialBudget } from './confirm-budget.js'
import {
  type BootFile,
  emptyBootFile,
  type PreviousSet,
  readBootFile,
  type TrialRecord,
  writeBootFile,
} from './file-boot-state.js'
import {
  dropKept,
  exists,
  type FileOf,
  fileCapacity,
  keepPrevious,
  presentNames,
  restoreKept,
} from './file-kept.js'

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
  /** The clock of trial deadlines (`confirmWithinMs`). */
  readonly clock: BootClock
  readonly fileOf: FileOf
  /** Finishes a multi-file commit a crash interrupted (its journal), before the boot state is judged. */
  finishInterruptedCommit(): Promise<void>
}

/**
 * Trial boots for `FilePersistence`, as an A/B flash has them: at a commit the files it replaces
 * are kept (hard links, so no bytes are copied) until the new image is confirmed; `activate()`
 * puts the new image on trial for `confirmWithinBoots` boots, counted by `boot()`, and
 * `confirmWithinMs` from its first boot when set; a boot past either without `confirm()`, or
 * `rollBack()`, puts the kept files back. The state and the security counter live in a
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
      previous = { image: state.current?.image, names: await presentNames(this.#layout.fileOf, names) }
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
    const budget = trialBudget(options)
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
    state.trial = { booted: false, extraBoots: budget.boots - 1 }
    if (budget.ms !== undefined) state.trial.confirmWithinMs = budget.ms
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
    if (trial === undefined) return { version: state.current?.image.version, rolledBack: false }
    const now = this.#layout.clock.now()
    if (!trial.booted || !spent(trial, now)) {
      state.trial = trial.booted
        ? { ...trial, extraBoots: trial.extraBoots - 1 }
        : { ...trial, booted: true, ...(trial.confirmWithinMs === undefined ? {} : { startedAt: now }) }
      await this.#save(state)
      return { version: state.current?.image.version, rolledBack: false }
    }
    await this.#rollBackNow(state)
    return { version: state.current?.image.version, rolledBack: true }
  }

  /** Rolls the running trial image back now (its deadline passed while it ran); nothing when none runs. */
  async rollBack(): Promise<void> {
    const state = await this.#load()
    if (state.trial?.booted === true) await this.#rollBackNow(state)
  }

  async #rollBackNow(state: BootFile): Promise<void> {
    state.rollingBack = true
    await this.#save(state)
    await this.#rollBack(state)
    await this.#save(state)
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
    await dropKept(this.#layout.fileOf, previous?.names ?? [])
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
              confirmBy: confirmBy(state.trial),
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
  capacity(): Promise<StorageCapacity> {
    return fileCapacity(dirname(this.#layout.statePath))
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
    await restoreKept(this.#layout.fileOf, state.current?.names ?? [], kept, this.#layout.statePath)
    state.rolledBack = { version: state.current?.image.version }
    const image = state.previous?.image
    state.current = image === undefined ? undefined : { image, names: [...kept] }
    state.previous = undefined
    state.trial = undefined
    state.rollingBack = false
  }

  async #keep(previous: PreviousSet | undefined): Promise<void> {
    await keepPrevious(this.#layout.fileOf, previous)
  }

  async #save(state: BootFile): Promise<void> {
    await writeBootFile(this.#layout.statePath, state, this.#layout.fsync)
  }
}

/** The deadline of a trial that booted with one. */
function confirmBy(trial: TrialRecord): number | undefined {
  return trial.confirmWithinMs === undefined || trial.startedAt === undefined
    ? undefined
    : trial.startedAt + trial.confirmWithinMs
}

/** A booted trial whose boots are spent, or whose deadline passed. */
function spent(trial: TrialRecord, now: number): boolean {
  const by = confirmBy(trial)
  return trial.extraBoots <= 0 || (by !== undefined && now >= by)
}
