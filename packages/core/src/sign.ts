import { createHmac } from 'node:crypto'
import { LinkkitError } from './errors.js'

/** The HMACs the platform accepts for the password (`signmethod=` in the clientId). */
export const SIGN_METHODS = ['hmacmd5', 'hmacsha1', 'hmacsha256'] as const
/** One of `SIGN_METHODS`. */
export type SignMethod = (typeof SIGN_METHODS)[number]

const HMAC_ALGORITHM: Record<SignMethod, string> = { hmacmd5: 'md5', hmacsha1: 'sha1', hmacsha256: 'sha256' }

/** Whether `value` is one of `SIGN_METHODS`. */
export function isSignMethod(value: unknown): value is SignMethod {
  return typeof value === 'string' && (SIGN_METHODS as readonly string[]).includes(value)
}

/** Lowercase hex HMAC of `content` keyed with `secret`. */
export function hmacHex(method: SignMethod, secret: string, content: string): string {
  return createHmac(HMAC_ALGORITHM[method], secret).update(content, 'utf8').digest('hex')
}

/** What the MQTT password signs (docs/protocol.md §1.2). */
export interface SignParams {
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** The clientId base (text before the first `|`); optional in the sign content. */
  clientId?: string | undefined
  /** Milliseconds since epoch as a decimal string; optional in the sign content. */
  timestamp?: string | undefined
}

/**
 * The password sign content: `name + value` for clientId, deviceName, productKey, timestamp in
 * alphabetical order of name, leaving out the optional ones that are absent (docs/protocol.md §1.2).
 */
export function signContent(params: SignParams): string {
  let content = ''
  if (params.clientId !== undefined) content += `clientId${params.clientId}`
  content += `deviceName${params.deviceName}productKey${params.productKey}`
  if (params.timestamp !== undefined) content += `timestamp${params.timestamp}`
  return content
}

/** The MQTT password: hex HMAC of the sign content with the device secret (docs/protocol.md §1.2). */
export function signPassword(method: SignMethod, deviceSecret: string, params: SignParams): string {
  return hmacHex(method, deviceSecret, signContent(params))
}

/** Dynamic registration sign content: `deviceName…productKey…random…`, keyed with the ProductSecret. */
export function registerSignContent(productKey: string, deviceName: string, random: string): string {
  return `deviceName${deviceName}productKey${productKey}random${random}`
}

/** Compares two hex strings case-insensitively in constant time for equal lengths. */
export function hexEquals(a: string, b: string): boolean {
  const x = a.toLowerCase()
  const y = b.toLowerCase()
  if (x.length !== y.length) return false
  let diff = 0
  for (let i = 0; i < x.length; i++) diff |= x.charCodeAt(i) ^ y.charCodeAt(i)
  return diff === 0
}

/** The `key=value` pairs of a clientId's extension part. */
export type ClientIdParams = Record<string, string>

/** Builds `<base>|k1=v1,k2=v2|`. Keys and values may not contain `|`, `,` or `=`. */
export function formatClientId(base: string, params: ClientIdParams): string {
  for (const [key, value] of Object.entries(params)) {
    if (/[|,=]/.test(key) || /[|,=]/.test(value)) {
      throw new LinkkitError('ERR_INVALID_OPTIONS', `clientId extension ${key} holds a | , or = character`)
    }
  }
  const kv = Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')
  return `${base}|${kv}|`
}

/** A clientId split into its base and parameters. */
export interface ParsedClientId {
  /** The text before the first `|`. */
  base: string
  /** The `key=value` parameters between the bars. */
  params: ClientIdParams
}

/** Parses `<base>|k=v,...|`; a clientId without the extension part has no params. Unknown keys are kept. */
export function parseClientId(clientId: string): ParsedClientId {
  const first = clientId.indexOf('|')
  if (first < 0) return { base: clientId, params: {} }
  const base = clientId.slice(0, first)
  const rest = clientId.slice(first + 1)
  const body = rest.endsWith('|') ? rest.slice(0, -1) : rest
  const params: ClientIdParams = {}
  for (const pair of body.split(',')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    if (eq < 0) params[pair] = ''
    else params[pair.slice(0, eq)] = pair.slice(eq + 1)
  }
  return { base, params }
}
