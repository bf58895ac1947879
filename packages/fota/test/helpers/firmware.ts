import type { FirmwareFileInfo } from '@linkkit/emulator'
import type { DigestMethod } from '../../src/types.js'
import { image } from '../download-helpers.js'

export const MiB = 1024 * 1024

/** Deterministic pseudo-random bytes (xorshift32): a firmware image that compresses to nothing. */
export const firmwareBytes = image

export interface OfferFields {
  version?: string
  signMethod?: DigestMethod
  module?: string
}

/**
 * The `data` of an upgrade push for a served file, as docs/protocol.md §6 item 6 recommends: `md5`
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
