import { type FileHandle, open } from 'node:fs/promises'
import { LinkkitError } from '@linkkit/core'
import { fsFailure, isMissing } from '../file-state.js'

/**
 * The file behind a simulated flash: a 32-byte superblock (magic, format, sector size, sector
 * count), the flash contents, then the wear counters (u32 erase count per sector, f64 bytes
 * programmed), all little-endian.
 */
export const superblockBytes = 32
const magic = Buffer.from('LKNORSIM', 'latin1')
const erased = 0xff

export interface FlashGeometry {
  sectorSizeBytes: number
  sectorCount: number
}

export interface LoadedFlash {
  handle: FileHandle
  contents: Uint8Array
  eraseCounts: number[]
  programmedBytes: number
}

/** Byte offset of the wear counters in the file. */
export const countersOffset = (geometry: FlashGeometry) =>
  superblockBytes + geometry.sectorSizeBytes * geometry.sectorCount

/** Encodes the wear counters as stored after the flash contents. */
export function encodeWear(eraseCounts: readonly number[], programmedBytes: number): Buffer {
  const counters = Buffer.alloc(eraseCounts.length * 4 + 8)
  for (const [sector, count] of eraseCounts.entries()) counters.writeUInt32LE(count, sector * 4)
  counters.writeDoubleLE(programmedBytes, eraseCounts.length * 4)
  return counters
}

function blankFile(geometry: FlashGeometry): Buffer {
  const file = Buffer.alloc(countersOffset(geometry) + geometry.sectorCount * 4 + 8, 0)
  magic.copy(file, 0)
  file.writeUInt32LE(1, 8)
  file.writeUInt32LE(geometry.sectorSizeBytes, 12)
  file.writeUInt32LE(geometry.sectorCount, 16)
  file.fill(erased, superblockBytes, countersOffset(geometry))
  return file
}

/** Opens the flash file, creating a blank (all 0xFF) one when missing or when `blank` is set. */
export async function loadFlashFile(
  path: string,
  geometry: FlashGeometry,
  blank: boolean,
): Promise<LoadedFlash> {
  let handle: FileHandle
  try {
    handle = await open(path, blank ? 'w+' : 'r+').catch((error: unknown) => {
      if (isMissing(error)) return open(path, 'w+')
      throw error
    })
  } catch (error) {
    throw fsFailure('ERR_PERSISTENCE', 'opening the flash file', path, error)
  }
  try {
    let file: Buffer = await handle.readFile()
    if (file.length === 0) {
      file = blankFile(geometry)
      await handle.write(file, 0, file.length, 0)
    }
    const at = countersOffset(geometry)
    const matches =
      file.length === at + geometry.sectorCount * 4 + 8 &&
      file.subarray(0, 8).equals(magic) &&
      file.readUInt32LE(12) === geometry.sectorSizeBytes &&
      file.readUInt32LE(16) === geometry.sectorCount
    if (!matches) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `${path} is not a flash of this geometry`, {
        details: { path, ...geometry },
      })
    }
    return {
      handle,
      contents: new Uint8Array(file.subarray(superblockBytes, at)),
      eraseCounts: Array.from({ length: geometry.sectorCount }, (_, i) => file.readUInt32LE(at + i * 4)),
      programmedBytes: file.readDoubleLE(at + geometry.sectorCount * 4),
    }
  } catch (error) {
    await handle.close()
    throw fsFailure('ERR_PERSISTENCE', 'loading the flash file', path, error)
  }
}
