import { LinkkitError } from '@linkkit/core'
import type { FirmwareImage } from '../../types.js'
import { crc32 } from './crc32.js'
import { headerArea } from './layout.js'

/** Magic of the record written when a download starts (which image the slot is receiving). */
export const stagingMagic = 'LKST'
/** Magic of the record written when the image is committed (the slot holds a complete image). */
export const finalMagic = 'LKIH'

const signMethods = ['Md5', 'SHA256'] as const
const hasModule = 1
const hasName = 2
const hasSecurityVersion = 4

/**
 * Encodes an image description as `magic | size u32 | signMethod u8 | flags u8 | digest, version,
 * module, name as u8-length-prefixed UTF-8 | securityVersion u32 when flagged | crc32`, little-endian. The CRC makes a torn program
 * read as "no record", never as a different image.
 */
export function encodeImageRecord(magic: string, image: FirmwareImage): Uint8Array {
  const strings = [image.digest.toLowerCase(), image.version, image.module ?? '', image.name ?? ''].map((s) =>
    Buffer.from(s, 'utf8'),
  )
  const secured = image.securityVersion !== undefined
  const length = 10 + strings.reduce((sum, s) => sum + 1 + s.length, 0) + (secured ? 4 : 0) + 4
  if (length > headerArea.recordBytes || strings.some((s) => s.length > 255)) {
    throw new LinkkitError(
      'ERR_PERSISTENCE',
      'image version, module or name too long for the flash image header',
      {
        details: { version: image.version, module: image.module, name: image.name },
      },
    )
  }
  const record = Buffer.alloc(length)
  record.write(magic, 0, 'latin1')
  record.writeUInt32LE(image.size, 4)
  record.writeUInt8(signMethods.indexOf(image.signMethod), 8)
  record.writeUInt8(
    (image.module === undefined ? 0 : hasModule) |
      (image.name === undefined ? 0 : hasName) |
      (secured ? hasSecurityVersion : 0),
    9,
  )
  let at = 10
  for (const s of strings) {
    record.writeUInt8(s.length, at)
    s.copy(record, at + 1)
    at += 1 + s.length
  }
  if (secured) {
    record.writeUInt32LE(image.securityVersion ?? 0, at)
    at += 4
  }
  record.writeUInt32LE(crc32(record.subarray(0, at)), at)
  return record
}

/** Decodes a record written by {@link encodeImageRecord}; undefined when absent, torn or of another magic. */
export function decodeImageRecord(magic: string, area: Uint8Array): FirmwareImage | undefined {
  const bytes = Buffer.from(area.buffer, area.byteOffset, area.byteLength)
  if (bytes.length < 14 || bytes.toString('latin1', 0, 4) !== magic) return undefined
  const signMethod = signMethods[bytes.readUInt8(8)]
  const flags = bytes.readUInt8(9)
  const strings: string[] = []
  let at = 10
  for (let i = 0; i < 4; i++) {
    const length = bytes[at]
    if (length === undefined || at + 1 + length + 4 > bytes.length) return undefined
    strings.push(bytes.toString('utf8', at + 1, at + 1 + length))
    at += 1 + length
  }
  let securityVersion: number | undefined
  if (flags & hasSecurityVersion) {
    if (at + 8 > bytes.length) return undefined
    securityVersion = bytes.readUInt32LE(at)
    at += 4
  }
  if (signMethod === undefined || bytes.readUInt32LE(at) !== crc32(bytes.subarray(0, at))) return undefined
  const [digest = '', version = '', module = '', name = ''] = strings
  return {
    version,
    size: bytes.readUInt32LE(4),
    signMethod,
    digest,
    ...(flags & hasModule ? { module } : {}),
    ...(flags & hasName ? { name } : {}),
    ...(securityVersion === undefined ? {} : { securityVersion }),
  }
}
