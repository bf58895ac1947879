import { LinkkitError, type LoggerOption } from '@linkkit/core'
import { isHexDigest, parseDigestMethod } from './digest-method.js'
import { type DownloadTlsOptions, downloadFirmware } from './download/index.js'
import type { ConfigOffer } from './types.js'

/** Config files are small; the whole file is returned in memory, so it is bounded. */
export const DEFAULT_CONFIG_MAX_BYTES = 16 * 1024 * 1024

function invalid(reason: string): LinkkitError {
  return new LinkkitError('ERR_OFFER_INVALID', `invalid config offer: ${reason}`, { details: { reason } })
}

/** Parses `{configId, configSize, sign, signMethod, url, getType}`. */
export function parseConfigOffer(data: unknown): ConfigOffer {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw invalid('params must be an object')
  const d = data as Record<string, unknown>
  if (typeof d.configId !== 'string' || d.configId.length === 0 || d.configId.length > 128)
    throw invalid('configId')
  const size = typeof d.configSize === 'string' ? Number(d.configSize) : d.configSize
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) throw invalid('configSize')
  if (typeof d.url !== 'string' || !URL.canParse(d.url)) throw invalid('url')
  const signMethod = parseDigestMethod(d.signMethod)
  if (signMethod === undefined) throw invalid(`signMethod ${JSON.stringify(d.signMethod)}`)
  if (!isHexDigest(signMethod, d.sign)) throw invalid('sign')
  return {
    configId: d.configId,
    size,
    url: d.url,
    signMethod,
    digest: d.sign.toLowerCase(),
    getType: typeof d.getType === 'string' ? d.getType : 'file',
  }
}

/** Options of `fetchConfig`. */
export interface FetchConfigOptions {
  /** Accept a plain `http://` URL. @default false */
  allowHttp?: boolean | undefined
  /** TLS settings of the download; verification stays on unless turned off by name. */
  tls?: DownloadTlsOptions | undefined
  /** Cancels the download (`ERR_ABORTED`). */
  signal?: AbortSignal
  /** @default 16 MiB */
  maxBytes?: number
  /** A pino logger or a level. Silent by default. */
  logger?: LoggerOption
}

/** Downloads and verifies a configuration file. */
export async function fetchConfig(offer: ConfigOffer, options: FetchConfigOptions = {}): Promise<Buffer> {
  const max = options.maxBytes ?? DEFAULT_CONFIG_MAX_BYTES
  if (offer.size > max)
    throw new LinkkitError('ERR_SIZE_MISMATCH', `config file of ${offer.size} bytes exceeds ${max}`)
  const body = Buffer.alloc(offer.size)
  await downloadFirmware(
    offer,
    (chunk, offset) => {
      body.set(chunk, offset)
    },
    {
      allowHttp: options.allowHttp === true,
      ...(options.tls ? { tls: options.tls } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.logger ? { logger: options.logger } : {}),
      retry: { limit: 2 },
    },
  )
  return body
}
