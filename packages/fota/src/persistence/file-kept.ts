import { copyFile, link, mkdir, rename, rm, statfs } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { StorageCapacity } from './boot-types.js'
import type { PreviousSet } from './file-boot-state.js'
import { fsFailure, isMissing } from './file-state.js'
import { dirPaths, sizeOf, stagingDirName } from './file-targets.js'

/** Where one target file, its kept previous copy and its staged bytes live. */
export interface TrialFile {
  readonly target: string
  readonly previous: string
  /** The file that exists until the commit renames it over the target (`.part` or `.verified`). */
  readonly staged: string
}

/** Finds a target's files by name. */
export type FileOf = (name: string) => TrialFile

/**
 * Where `FilePersistence` keeps the files a commit replaces: `<path>.previous` in one-image mode,
 * `<dir>/.linkkit-ota/previous/<name>` in directory mode.
 */
export function trialFileOf(path: string, dir: string | undefined): FileOf {
  if (dir === undefined) return () => ({ target: path, previous: `${path}.previous`, staged: `${path}.part` })
  return (name) => ({
    target: join(dir, name),
    previous: join(dir, stagingDirName, 'previous', name),
    staged: dirPaths(dir, name).verified as string,
  })
}

export const exists = async (path: string): Promise<boolean> => (await sizeOf(path)) !== undefined

/** The names among `names` whose target file exists. */
export async function presentNames(fileOf: FileOf, names: readonly string[]): Promise<string[]> {
  const present: string[] = []
  for (const name of names) if (await exists(fileOf(name).target)) present.push(name)
  return present
}

/** Links each target to its previous copy (a copy where links are not possible). */
export async function keepPrevious(fileOf: FileOf, previous: PreviousSet | undefined): Promise<void> {
  for (const name of previous?.names ?? []) {
    const file = fileOf(name)
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

/** Removes the kept copies of `names` (after a confirm). */
export async function dropKept(fileOf: FileOf, names: readonly string[]): Promise<void> {
  for (const name of names) await rm(fileOf(name).previous, { force: true })
}

/**
 * Puts the kept files back over the targets and removes the targets that had none before.
 * Idempotent, so a crash part-way is finished by running it again.
 */
export async function restoreKept(
  fileOf: FileOf,
  current: readonly string[],
  kept: ReadonlySet<string>,
  statePath: string,
): Promise<void> {
  try {
    for (const name of current) if (!kept.has(name)) await rm(fileOf(name).target, { force: true })
    for (const name of kept) {
      const file = fileOf(name)
      if (await exists(file.previous)) await rename(file.previous, file.target)
    }
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'rolling back', statePath, error)
  }
}

/** The file system's room, from `statfs` of `dir`. */
export async function fileCapacity(dir: string): Promise<StorageCapacity> {
  try {
    const fs = await statfs(dir)
    return { totalBytes: fs.blocks * fs.bsize, freeBytes: fs.bavail * fs.bsize }
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'reading the free space', dir, error)
  }
}
