import type { IncomingMessage } from 'node:http'
import type { LinkkitErrorCode } from '@linkkit/core'
import { readBody } from '../http-router.js'

/** A refusal of the control API: answered as `{ error: { code, message } }` with `status`. */
export class ControlFailure extends Error {
  readonly status: number
  /** The code of the emulator's `LinkkitError`, or `ERR_INTERNAL` for a bug of the emulator (500). */
  readonly code: LinkkitErrorCode

  constructor(status: number, code: LinkkitErrorCode, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

export type JsonObject = Record<string, unknown>

export function badRequest(message: string): ControlFailure {
  return new ControlFailure(400, 'ERR_INVALID_ARGUMENT', message)
}

export function notFound(message: string): ControlFailure {
  return new ControlFailure(404, 'ERR_INVALID_ARGUMENT', message)
}

/**
 * Reads a JSON object body of at most `limitBytes`. Only `application/json` is accepted: a browser
 * page cannot send that cross-origin without a CORS preflight, which the API never grants.
 */
export async function readJsonObject(req: IncomingMessage, limitBytes: number): Promise<JsonObject> {
  const type = req.headers['content-type'] ?? ''
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ControlFailure(415, 'ERR_INVALID_ARGUMENT', 'send the body as Content-Type: application/json')
  }
  const tooLarge = new ControlFailure(413, 'ERR_INVALID_ARGUMENT', `the body exceeds ${limitBytes} bytes`)
  if (Number(req.headers['content-length'] ?? 0) > limitBytes) throw tooLarge
  let body: Buffer
  try {
    body = await readBody(req, limitBytes)
  } catch (error) {
    if (error instanceof RangeError) throw tooLarge
    throw error
  }
  if (body.length === 0) return {}
  let value: unknown
  try {
    value = JSON.parse(body.toString('utf8'))
  } catch {
    throw badRequest('the body is not valid JSON')
  }
  if (!isObject(value)) throw badRequest('the body must be a JSON object')
  return value
}

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Refuses fields the endpoint does not know, so a misspelt one is not silently ignored. */
export function onlyFields(body: JsonObject, allowed: readonly string[]): void {
  const unknown = Object.keys(body).filter((key) => !allowed.includes(key))
  if (unknown.length > 0) {
    throw badRequest(`unknown field ${unknown.map((k) => JSON.stringify(k)).join(', ')}`)
  }
}

export function requiredString(body: JsonObject, name: string): string {
  const value = body[name]
  if (typeof value !== 'string' || value.length === 0) throw badRequest(`${name} must be a non-empty string`)
  return value
}

export function optionalString(body: JsonObject, name: string): string | undefined {
  return body[name] === undefined ? undefined : requiredString(body, name)
}

export function optionalBoolean(body: JsonObject, name: string): boolean | undefined {
  const value = body[name]
  if (value === undefined || typeof value === 'boolean') return value
  throw badRequest(`${name} must be true or false`)
}

export function optionalObject(body: JsonObject, name: string): JsonObject | undefined {
  const value = body[name]
  if (value === undefined || isObject(value)) return value
  throw badRequest(`${name} must be a JSON object`)
}

export function optionalTimeoutMs(body: JsonObject): number | undefined {
  const value = body.timeoutMs
  if (value === undefined) return undefined
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > 600_000) {
    throw badRequest('timeoutMs must be an integer from 1 to 600000')
  }
  return value
}

/** Drops undefined values, so options left out keep the emulator's defaults. */
export function compact<T extends object>(value: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>
  }
}
