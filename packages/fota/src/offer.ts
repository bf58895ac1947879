import { assertTopicSegment, LinkkitError } from '@linkkit/core'
import { isHexDigest, parseDigestMethod } from './digest-method.js'
import type { DigestMethod, FirmwareFile, FirmwareOffer } from './types.js'

/** At most this many files in a multi-file offer (4.x limit, docs/protocol.md §3.3). */
export const MAX_OFFER_FILES = 20
/** Target versions are 1–64 characters in the cloud API (docs/protocol.md §3.3). */
const MAX_VERSION_LENGTH = 64

function invalid(reason: string, field?: string): LinkkitError {
  return new LinkkitError('ERR_OFFER_INVALID', `invalid firmware offer: ${reason}`, {
    details: field === undefined ? { reason } : { reason, field },
  })
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** 3.x reads `size` with atoi() of the raw token; we accept a JSON number or a decimal string. */
function parseSize(value: unknown, field: string): number {
  const n = typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value
  if (typeof n !== 'number' || !Number.isSafeInteger(n) || n <= 0)
    throw invalid(`${field} must be a positive integer`, field)
  return n
}

function parseUrl(value: unknown, field: string): string {
  if (typeof value !== 'string' || !URL.canParse(value)) throw invalid(`${field} must be a URL`, field)
  const protocol = new URL(value).protocol
  if (protocol !== 'https:' && protocol !== 'http:') throw invalid(`${field} must be an http(s) URL`, field)
  return value
}

function parseDigest(
  data: Record<string, unknown>,
  signMethod: DigestMethod,
  signField: string,
  md5Field: string,
): { digest: string; md5?: string } {
  const md5 = typeof data[md5Field] === 'string' ? (data[md5Field] as string) : undefined
  if (md5 !== undefined && !isHexDigest('Md5', md5))
    throw invalid(`${md5Field} must be 32 hex characters`, md5Field)
  const sign = typeof data[signField] === 'string' ? (data[signField] as string) : undefined
  // 3.x-style offers carry only `md5`; it is the digest when the method is Md5.
  const digest = sign ?? (signMethod === 'Md5' ? md5 : undefined)
  if (digest === undefined) throw invalid(`${signField} is missing`, signField)
  if (!isHexDigest(signMethod, digest))
    throw invalid(`${signField} is not a ${signMethod} hex digest`, signField)
  return md5 === undefined
    ? { digest: digest.toLowerCase() }
    : { digest: digest.toLowerCase(), md5: md5.toLowerCase() }
}

function parseFile(entry: unknown, index: number, signMethod: DigestMethod): FirmwareFile {
  if (!isRecord(entry)) throw invalid(`files[${index}] must be an object`, `files[${index}]`)
  const name = entry.fileName
  if (typeof name !== 'string' || name.length === 0 || name.length > 128) {
    throw invalid(`files[${index}].fileName must be a non-empty string`, `files[${index}].fileName`)
  }
  const file: FirmwareFile = {
    name,
    size: parseSize(entry.fileSize, `files[${index}].fileSize`),
    url: parseUrl(entry.fileUrl, `files[${index}].fileUrl`),
    signMethod,
    ...parseDigest(entry, signMethod, 'fileSign', 'fileMd5'),
  }
  return file
}

/**
 * Parses the `data` object of an upgrade push or a `thing/ota/firmware/get_reply`. Throws
 * ERR_OFFER_INVALID (with `details.reason`) for anything a download could not safely start from.
 */
export function parseOfferData(data: unknown): FirmwareOffer {
  if (!isRecord(data)) throw invalid('data must be an object', 'data')
  const version = data.version
  if (typeof version !== 'string' || version.length === 0 || version.length > MAX_VERSION_LENGTH) {
    throw invalid(`version must be 1–${MAX_VERSION_LENGTH} characters`, 'version')
  }
  if (data.dProtocol === 'mqtt')
    throw invalid('MQTT file download (dProtocol "mqtt") is not supported', 'dProtocol')
  const signMethod =
    data.signMethod === undefined && typeof data.md5 === 'string' ? 'Md5' : parseDigestMethod(data.signMethod)
  if (signMethod === undefined)
    throw invalid(`unknown signMethod ${JSON.stringify(data.signMethod)}`, 'signMethod')
  let module: string | undefined
  if (data.module !== undefined && data.module !== 'default') {
    module = assertTopicSegment(data.module, 'module')
  }
  let files: FirmwareFile[] | undefined
  let first: FirmwareFile
  if (Array.isArray(data.files)) {
    if (data.files.length === 0 || data.files.length > MAX_OFFER_FILES) {
      throw invalid(`files must hold 1–${MAX_OFFER_FILES} entries`, 'files')
    }
    files = data.files.map((entry, i) => parseFile(entry, i, signMethod))
    if (new Set(files.map((f) => f.name)).size !== files.length)
      throw invalid('file names must be unique', 'files')
    first = files[0]!
  } else {
    first = {
      size: parseSize(data.size, 'size'),
      url: parseUrl(data.url, 'url'),
      signMethod,
      ...parseDigest(data, signMethod, 'sign', 'md5'),
    }
  }
  const offer: FirmwareOffer = { version, size: first.size, url: first.url, signMethod, digest: first.digest }
  if (first.md5 !== undefined) offer.md5 = first.md5
  if (module !== undefined) offer.module = module
  if (isRecord(data.extData)) offer.extData = data.extData
  if (data.isDiff === 1 || data.isDiff === true || data.isDiff === '1') offer.isDiff = true
  if (files !== undefined) offer.files = files
  return offer
}

/**
 * Parses an upgrade push envelope `{"code":"1000","message":"success","data":{…},"id":…}`.
 * Like 3.x we require `data` and ignore `code`; unlike 3.x we also accept the newer `code: 200` sample (docs/protocol.md §3.3).
 */
export function parseUpgradePush(body: unknown): FirmwareOffer {
  if (!isRecord(body)) throw invalid('push is not a JSON object')
  if (body.message !== undefined && body.message !== 'success')
    throw invalid('push message is not "success"', 'message')
  return parseOfferData(body.data)
}

/** The files a download walks through: `files` of a multi-file offer, else the single image. */
export function offerFiles(offer: FirmwareOffer): FirmwareFile[] {
  if (offer.files && offer.files.length > 0) return offer.files
  const file: FirmwareFile = {
    size: offer.size,
    url: offer.url,
    signMethod: offer.signMethod,
    digest: offer.digest,
  }
  if (offer.md5 !== undefined) file.md5 = offer.md5
  return [file]
}
