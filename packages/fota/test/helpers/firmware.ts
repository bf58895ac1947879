import type { FirmwareFileInfo } from '../../../emulator/src/firmware-store.js'
import type { SignMethod } from '../../src/types.js'

export const MiB = 1024 * 1024

/** Deterministic pseudo-random bytes (xorshift32): a firmware image that compresses to nothing. */
export function firmwareBytes(size: number, seed = 1): Uint8Array {
  const words = new Uint32Array(Math.ceil(size / 4))
  let x = seed >>> 0 || 1
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    words[i] = x >>> 0
  }
  return new Uint8Array(words.buffer, 0, size)
}

export interface OfferFields {
  version?: string
  signMethod?: SignMethod
  module?: string
}

/**
 * The `data` of an upgrade push for a served file, as PROTOCOL.md §6 item 6 recommends: `md5`
 * always (3.x needs it), `sign` per `signMethod`, `module` only for a non-default module.
 */
export function offerData(file: FirmwareFileInfo, fields: OfferFields = {}): Record<string, unknown> {
  const signMethod = fields.signMethod ?? 'Md5'
  const data: Record<string, unknown> = {
    size: file.size,
    version: fields.version ?? '2.0.0',
    url: file.url,
    md5: file.md5,
    sign: signMethod === 'Md5' ? file.md5 : file.sha256,
    signMethod,
  }
  if (fields.module !== undefined) data.module = fields.module
  return data
}
