import { isAbsolute } from 'node:path'
import type { OtaSignMethod } from '../ota/types.js'
import { badRequest, type JsonObject, optionalString } from './control-input.js'
import { type ReadFirmwareOptions, readFirmwareFile } from './firmware-file.js'

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

/** The sign method of `POST /control/firmware`, in any letter case; absent, the catalog's default. */
export function signMethod(value: string | undefined): OtaSignMethod | undefined {
  if (value === undefined) return undefined
  const lower = value.toLowerCase()
  if (lower === 'md5') return 'Md5'
  if (lower === 'sha256') return 'SHA256'
  throw badRequest('signMethod must be "Md5" or "SHA256"')
}

/**
 * The image of `POST /control/firmware`: `dataBase64`, or an absolute `path` of a regular file
 * below the directory the operator allowed (`allowedFirmwareDir`).
 */
export async function firmwareData(input: JsonObject, files: ReadFirmwareOptions): Promise<Uint8Array> {
  const base64 = optionalString(input, 'dataBase64')
  const path = optionalString(input, 'path')
  if ((base64 === undefined) === (path === undefined)) throw badRequest('give either dataBase64 or path')
  if (base64 !== undefined) {
    if (base64.length % 4 !== 0 || !BASE64.test(base64)) throw badRequest('dataBase64 is not valid base64')
    return Buffer.from(base64, 'base64')
  }
  if (path === undefined || !isAbsolute(path)) throw badRequest('path must be an absolute file path')
  return readFirmwareFile(path, files)
}
