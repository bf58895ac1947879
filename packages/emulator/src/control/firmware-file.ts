import { constants } from 'node:fs'
import { open, realpath, stat } from 'node:fs/promises'
import { isAbsolute, relative, resolve, sep } from 'node:path'
import { refusedOption } from '@linkkit/core'
import type { Logger } from 'pino'
import { badRequest, ControlFailure } from './control-input.js'

/** A firmware given by `path` is read into memory, as the firmware server holds its files. */
export const MAX_FIRMWARE_FILE_BYTES = 256 * 1024 * 1024
const CHUNK_BYTES = 1024 * 1024
// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer, for ever.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0)

/** The directory `POST /control/firmware {path}` may read from, as given and with its links resolved. */
export interface FirmwareDir {
  /** The absolute path as the operator gave it. */
  given: string
  /** The same directory with every symbolic link resolved. */
  real: string
}

/** Checks `allowedFirmwareDir` at start: an absolute path of an existing directory. */
export async function firmwareDirOf(option: string | undefined): Promise<FirmwareDir | undefined> {
  if (option === undefined) return undefined
  const invalid = (rule: string) => refusedOption('allowedFirmwareDir', rule)
  if (typeof option !== 'string' || !isAbsolute(option)) throw invalid('must be an absolute path')
  const real = await realpath(option).catch((error: NodeJS.ErrnoException) => {
    throw invalid(`cannot be read (${error.code ?? 'error'})`)
  })
  if (!(await stat(real)).isDirectory()) throw invalid('must be a directory')
  return { given: resolve(option), real }
}

export interface ReadFirmwareOptions {
  /** Where files may come from; undefined refuses every path. */
  dir: FirmwareDir | undefined
  /** Aborted when the client goes away: the read stops. */
  signal: AbortSignal
  logger: Logger
}

function refused(message: string): ControlFailure {
  return new ControlFailure(403, 'ERR_PATH_NOT_ALLOWED', message)
}

/** Whether `path` lies strictly inside `dir` (both absolute and normalized). */
function inside(dir: string, path: string): boolean {
  const rel = relative(dir, path)
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)
}

/**
 * Reads a regular file below the allowed directory, at most MAX_FIRMWARE_FILE_BYTES, stopping when
 * `signal` aborts. The path is checked as written (so nothing outside is even looked at), then with
 * its links resolved (a link pointing out is refused); the file is opened without following a link
 * and checked to be a regular file on the open descriptor, so /dev/zero or a FIFO is never read.
 */
export async function readFirmwareFile(path: string, options: ReadFirmwareOptions): Promise<Uint8Array> {
  const { dir, signal, logger } = options
  if (dir === undefined) {
    throw refused(
      'reading firmware by path is off: start the emulator with allowedFirmwareDir (linkkit emulator --allowed-firmware-dir)',
    )
  }
  const outside = () => refused('path is outside the allowed firmware directory')
  const lexical = resolve(path)
  if (!inside(dir.given, lexical) && !inside(dir.real, lexical)) throw outside()
  const cannot = (error: NodeJS.ErrnoException) => badRequest(`cannot read the firmware file: ${error.code}`)
  const real = await realpath(lexical).catch((error: NodeJS.ErrnoException) => {
    throw error.code === undefined ? error : cannot(error)
  })
  if (!inside(dir.real, real)) throw outside()
  const handle = await open(real, OPEN_FLAGS).catch((error: NodeJS.ErrnoException) => {
    throw error.code === undefined ? error : cannot(error)
  })
  try {
    const info = await handle.stat()
    if (!info.isFile()) throw refused('path is not a regular file')
    if (info.size > MAX_FIRMWARE_FILE_BYTES)
      throw badRequest(`the firmware file exceeds ${MAX_FIRMWARE_FILE_BYTES} bytes`)
    logger.debug({ path: real, size: info.size }, 'reading firmware file')
    const data = Buffer.allocUnsafe(info.size)
    let offset = 0
    while (offset < info.size) {
      if (signal.aborted) {
        logger.debug(
          { path: real, bytesRead: offset, size: info.size },
          'firmware file read stopped: the request was aborted',
        )
        throw new ControlFailure(499, 'ERR_ABORTED', 'the request was aborted')
      }
      const length = Math.min(CHUNK_BYTES, info.size - offset)
      const { bytesRead } = await handle.read(data, offset, length, offset)
      if (bytesRead === 0) throw badRequest('the firmware file shrank while it was read')
      offset += bytesRead
    }
    return data
  } finally {
    await handle.close()
  }
}
