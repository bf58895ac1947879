import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'
import { isDigestMethod } from '../digest-method.js'
import type { FirmwareImage } from '../types.js'
import { fsFailure, fsyncDirectory, isMissing } from './file-state.js'

/** What the target files hold, as this adapter committed them. */
export interface CommittedSet {
  /** The last file's image (with `files` for a multi-file offer) and its security version. */
  image: FirmwareImage
  /** The target names of the offer. */
  names: string[]
}

/** The copies kept from before the last commit: what a rollback restores. */
export interface PreviousSet {
  /** Their image, when this adapter committed them; undefined for files it found in place. */
  image: FirmwareImage | undefined
  /** The names that had a file before the commit (a rollback removes the others). */
  names: string[]
}

/** `<path>.boot.json` (or `<dir>/.linkkit-ota/boot.json`): trial boots and the security counter. */
export interface BootFile {
  format: 1
  /** The security counter. */
  securityVersion: number
  current: CommittedSet | undefined
  previous: PreviousSet | undefined
  /** Written before the renames of a commit, cleared after: a crash in between is finished or undone. */
  committing: (CommittedSet & { previous: PreviousSet | undefined; superseding: boolean }) | undefined
  /**
   * The current image was activated: `booted` once it ran, `extraBoots` left after that; with a
   * deadline, `confirmWithinMs` from `startedAt` (its first boot, stamped then).
   */
  trial: TrialRecord | undefined
  /** A rollback under way (set before its renames). */
  rollingBack: boolean
  /** A rollback the device has not reported yet. */
  rolledBack: { version: string | undefined } | undefined
}

/** A trial as the boot file keeps it. */
export interface TrialRecord {
  booted: boolean
  extraBoots: number
  confirmWithinMs?: number
  startedAt?: number
}

export const emptyBootFile = (): BootFile => ({
  format: 1,
  securityVersion: 0,
  current: undefined,
  previous: undefined,
  committing: undefined,
  trial: undefined,
  rollingBack: false,
  rolledBack: undefined,
})

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

const isNames = (value: unknown): value is string[] =>
  Array.isArray(value) && value.every((n) => typeof n === 'string')

function isImage(value: unknown): value is FirmwareImage {
  return (
    isRecord(value) &&
    typeof value.version === 'string' &&
    typeof value.size === 'number' &&
    isDigestMethod(value.signMethod) &&
    typeof value.digest === 'string' &&
    (value.securityVersion === undefined || typeof value.securityVersion === 'number')
  )
}

const isSet = (value: unknown): value is CommittedSet =>
  isRecord(value) && isImage(value.image) && isNames(value.names)
const isPrevious = (value: unknown): value is PreviousSet =>
  isRecord(value) && (value.image === undefined || isImage(value.image)) && isNames(value.names)
const optional = <T>(value: unknown, check: (v: unknown) => v is T): value is T | undefined =>
  value === undefined || check(value)

const isNumber = (value: unknown): value is number => typeof value === 'number'
const isTrial = (value: unknown): value is TrialRecord =>
  isRecord(value) &&
  typeof value.booted === 'boolean' &&
  typeof value.extraBoots === 'number' &&
  optional(value.confirmWithinMs, isNumber) &&
  optional(value.startedAt, isNumber)

function isBootFile(value: unknown): value is BootFile {
  if (!isRecord(value) || value.format !== 1 || typeof value.securityVersion !== 'number') return false
  const trial = value.trial
  const committing = value.committing
  return (
    optional(value.current, isSet) &&
    optional(value.previous, isPrevious) &&
    (committing === undefined ||
      (isRecord(committing) &&
        isSet(committing) &&
        optional(committing.previous, isPrevious) &&
        typeof committing.superseding === 'boolean')) &&
    (trial === undefined || isTrial(trial)) &&
    typeof value.rollingBack === 'boolean' &&
    (value.rolledBack === undefined || isRecord(value.rolledBack))
  )
}

/**
 * Reads the boot file; undefined when there is none (trial boots were never used here). A file that does not parse is refused
 * rather than taken as fresh: it holds the security counter, and forgetting it would let an old
 * image back in. (It is only ever replaced whole, by a rename, so a crash cannot tear it.)
 */
export async function readBootFile(path: string): Promise<BootFile | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (isMissing(error)) return undefined
    throw fsFailure('ERR_PERSISTENCE', 'reading the boot state', path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (!isBootFile(value)) {
    throw fsFailure(
      'ERR_PERSISTENCE',
      'reading the boot state',
      path,
      new Error('the file is not a boot state'),
    )
  }
  return value
}

/** Replaces the boot file whole: written aside, synced, renamed over it, the directory synced. */
export async function writeBootFile(path: string, state: BootFile, fsync: boolean): Promise<void> {
  const temporary = `${path}.tmp`
  try {
    // Directory mode keeps it in `<dir>/.linkkit-ota/`, which the first boot() may find missing.
    await mkdir(dirname(path), { recursive: true })
    const handle = await open(temporary, 'w')
    try {
      await handle.writeFile(JSON.stringify(state))
      if (fsync) await handle.sync()
    } finally {
      await handle.close()
    }
    await rename(temporary, path)
    if (fsync) await fsyncDirectory(dirname(path))
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'writing the boot state', path, error)
  }
}
