import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import { fsFailure, fsyncDirectory, isMissing } from './file-state.js'

/** Where one file of a download lives: its target, its staging bytes and sidecar, and its verified copy. */
export interface FilePaths {
  /** Where the verified file ends up. */
  readonly target: string
  /** The bytes being received. */
  readonly part: string
  /** Which image `part` (or `verified`) belongs to. */
  readonly sidecar: string
  /** Directory mode: a verified file waiting for the rest of its offer; undefined in single-file mode. */
  readonly verified: string | undefined
}

/** The directory inside a `dir` that holds staging files; offer file names cannot start with a dot. */
export const stagingDirName = '.linkkit-ota'
const journalName = '.commit.json'
const suffixes = ['.part.json', '.part', '.verified'] as const

/**
 * File names an offer may store under a directory: no path separator, no control character, none
 * of the characters Windows forbids, no leading dot (so no `..`, no hidden files, no clash with
 * the staging directory), no trailing dot or space, at most 128 characters.
 */
const safeName = /^[^\\/<>:"|?*.][^\\/<>:"|?*]{0,127}$/

/** Whether `name` may be stored under a directory (see `safeName`). */
export function isSafeName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const code = name.charCodeAt(i)
    if (code < 0x20 || code === 0x7f) return false
  }
  return safeName.test(name) && !name.endsWith('.') && !name.endsWith(' ')
}

/** Refuses a file name that could leave the directory or clash with the staging files. */
export function assertFileName(name: string): void {
  if (!isSafeName(name)) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      `file name ${JSON.stringify(name.slice(0, 140))} cannot be stored: use letters, digits and . _ - without a leading dot or a path separator`,
      { details: { reason: 'file-name', name: name.slice(0, 140) } },
    )
  }
}

/** Paths of the file `name` in directory mode. */
export function dirPaths(dir: string, name: string): FilePaths {
  const staging = join(dir, stagingDirName)
  return {
    target: join(dir, name),
    part: join(staging, `${name}.part`),
    sidecar: join(staging, `${name}.part.json`),
    verified: join(staging, `${name}.verified`),
  }
}

/** Paths of the single-file mode: staging beside the target, so the final rename is atomic. */
export function singlePaths(path: string): FilePaths {
  return { target: path, part: `${path}.part`, sidecar: `${path}.part.json`, verified: undefined }
}

/** The size of `path`, or undefined when it does not exist. */
export async function sizeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size
  } catch (error) {
    if (isMissing(error)) return undefined
    throw fsFailure('ERR_PERSISTENCE', 'inspecting a staging file', path, error)
  }
}

/** Creates the staging directory of `dir`. */
export async function ensureStaging(dir: string): Promise<void> {
  try {
    await mkdir(join(dir, stagingDirName), { recursive: true })
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'creating the staging directory', dir, error)
  }
}

/** Removes staged files of names that are not in `keep` (what an earlier, abandoned offer left). */
export async function removeStagedExcept(dir: string, keep: readonly string[]): Promise<void> {
  const staging = join(dir, stagingDirName)
  let entries: string[]
  try {
    entries = await readdir(staging)
  } catch (error) {
    if (isMissing(error)) return
    throw fsFailure('ERR_PERSISTENCE', 'listing the staging directory', staging, error)
  }
  for (const entry of entries) {
    const suffix = suffixes.find((s) => entry.endsWith(s))
    if (suffix === undefined || keep.includes(entry.slice(0, -suffix.length))) continue
    await rm(join(staging, entry), { force: true })
  }
}

/** Removes every staged file of `name`. */
export async function removeStaged(paths: FilePaths): Promise<void> {
  await rm(paths.part, { force: true })
  if (paths.verified !== undefined) await rm(paths.verified, { force: true })
  await rm(paths.sidecar, { force: true })
}

/**
 * Moves the verified files `names` of an offer into `dir`, all or none as far as a crash can
 * tell: the list goes to a journal (written aside and renamed into place, so it exists whole or
 * not at all) before the first rename, and {@link recoverCommit} finishes the renames after a
 * crash. A single file needs no journal: its rename is atomic.
 */
export async function commitFiles(dir: string, names: readonly string[], fsync: boolean): Promise<void> {
  const staging = join(dir, stagingDirName)
  if (names.length > 1) {
    const journal = join(staging, journalName)
    const handle = await open(`${journal}.tmp`, 'w')
    try {
      await handle.writeFile(JSON.stringify({ format: 1, names }))
      if (fsync) await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(`${journal}.tmp`, journal)
    if (fsync) await fsyncDirectory(staging)
  }
  await applyCommit(dir, names, fsync)
}

async function applyCommit(dir: string, names: readonly string[], fsync: boolean): Promise<void> {
  const staging = join(dir, stagingDirName)
  for (const name of names) {
    const paths = dirPaths(dir, name)
    try {
      await rename(paths.verified as string, paths.target)
    } catch (error) {
      // Already moved by the interrupted commit this one finishes.
      if (!isMissing(error)) throw error
    }
  }
  if (fsync) await fsyncDirectory(dir)
  for (const name of names) await rm(dirPaths(dir, name).sidecar, { force: true })
  await rm(join(staging, journalName), { force: true })
}

/** Finishes a multi-file commit that a crash interrupted; does nothing when none was under way. */
export async function recoverCommit(dir: string, fsync: boolean): Promise<void> {
  const staging = join(dir, stagingDirName)
  const journal = join(staging, journalName)
  let text: string
  try {
    // A journal torn while it was written never became the journal: no rename had started.
    await rm(`${journal}.tmp`, { force: true })
    text = await readFile(journal, 'utf8')
  } catch (error) {
    if (isMissing(error)) return
    throw fsFailure('ERR_PERSISTENCE', 'reading the commit journal', journal, error)
  }
  const names = parseJournal(text)
  try {
    // The journal is renamed into place whole, so an unreadable one was never the commit's: drop it.
    if (names === undefined) await rm(journal, { force: true })
    else await applyCommit(dir, names, fsync)
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'finishing an interrupted commit', dir, error)
  }
}

function parseJournal(text: string): string[] | undefined {
  try {
    const value = JSON.parse(text) as { format?: unknown; names?: unknown }
    if (value?.format !== 1 || !Array.isArray(value.names)) return undefined
    const names = value.names.filter((n): n is string => typeof n === 'string' && isSafeName(n))
    return names.length === value.names.length ? names : undefined
  } catch {
    return undefined
  }
}
