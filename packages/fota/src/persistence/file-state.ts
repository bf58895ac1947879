import { open, readFile } from 'node:fs/promises'
import { LinkkitError, type LinkkitErrorCode } from '@linkkit/core'
import { isDigestMethod } from '../digest-method.js'
import type { DigestMethod, FirmwareImage } from '../types.js'

/** The sidecar `<path>.part.json`: which image the bytes in `<path>.part` belong to. */
interface Sidecar {
  format: 1
  version: string
  size: number
  signMethod: DigestMethod
  digest: string
  module?: string
  name?: string
}

/** Wraps a failed fs call into a coded error that keeps the fs error (ENOENT, EACCES…) as `cause`. */
export function fsFailure(
  code: LinkkitErrorCode,
  action: string,
  path: string,
  cause: unknown,
): LinkkitError {
  if (cause instanceof LinkkitError) return cause
  const reason = cause instanceof Error ? cause.message : String(cause)
  return new LinkkitError(code, `${action} failed: ${reason}`, { cause, details: { path } })
}

export function isMissing(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT'
}

/** The image named by the sidecar, or undefined when it is missing, torn or from another format. */
export async function readSidecar(path: string): Promise<FirmwareImage | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (error) {
    if (isMissing(error)) return undefined
    throw fsFailure('ERR_PERSISTENCE', 'reading the resume sidecar', path, error)
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return undefined // torn by a crash while it was written: nothing to resume
  }
  if (!isSidecar(value)) return undefined
  const { format: _format, ...image } = value
  return image
}

/** Writes the sidecar before the first byte of `.part`, so held bytes are never of an unknown image. */
export async function writeSidecar(path: string, image: FirmwareImage, fsync: boolean): Promise<void> {
  const sidecar: Sidecar = {
    format: 1,
    version: image.version,
    size: image.size,
    signMethod: image.signMethod,
    digest: image.digest.toLowerCase(),
    ...(image.module === undefined ? {} : { module: image.module }),
    ...(image.name === undefined ? {} : { name: image.name }),
  }
  const handle = await open(path, 'w')
  try {
    await handle.writeFile(JSON.stringify(sidecar))
    if (fsync) await handle.sync()
  } finally {
    await handle.close()
  }
}

/** Makes a rename inside `dir` durable. Windows cannot open a directory for fsync, so it is skipped there. */
export async function fsyncDirectory(dir: string): Promise<void> {
  if (process.platform === 'win32') return
  const handle = await open(dir, 'r')
  try {
    await handle.sync()
  } finally {
    await handle.close()
  }
}

function isSidecar(value: unknown): value is Sidecar {
  if (typeof value !== 'object' || value === null) return false
  const v = value as Record<string, unknown>
  return (
    v.format === 1 &&
    typeof v.version === 'string' &&
    typeof v.size === 'number' &&
    isDigestMethod(v.signMethod) &&
    typeof v.digest === 'string' &&
    (v.module === undefined || typeof v.module === 'string') &&
    (v.name === undefined || typeof v.name === 'string')
  )
}
