import { LinkkitError } from './errors.js'
import { parseJson } from './inbound-json.js'

/** An Alink request, either direction (docs/protocol.md §2.1). */
export interface AlinkRequest<P = unknown> {
  /** Request id, a decimal string; the reply carries it back. */
  id: string
  /** Always `"1.0"`. */
  version: string
  /** The method's parameters. */
  params: P
  /** E.g. `thing.event.property.post`; 4.x devices omit it (the topic says it). */
  method?: string
  /** `ack: 0` asks the cloud for no reply (docs/protocol.md §2.1). */
  sys?: {
    /** 0: no reply; 1 or absent: reply. */
    ack?: 0 | 1
  }
}

/** An Alink reply on `<topic>_reply`. */
export interface AlinkReply<D = unknown> {
  /** The id of the request this answers. */
  id: string
  /** 200 for success; anything else is an error code (docs/protocol.md §2.4). */
  code: number
  /** The result, `{}` when there is none. */
  data: D
  /** A human-readable reason, mostly with error codes. */
  message?: string
  /** The request's method, when the cloud echoes it. */
  method?: string
  /** `"1.0"` when present. */
  version?: string
}

/**
 * Alink ids are decimal strings, "0–4294967295", unique per device per day (docs/protocol.md §2.1).
 * A counter seeded from the clock keeps ids unique across restarts within a day.
 */
export class AlinkIds {
  #next: number

  constructor(seed: number = Date.now() % 1_000_000_000) {
    this.#next = seed
  }

  /** The next id, as a decimal string. */
  next(): string {
    this.#next = (this.#next + 1) % 4_294_967_296
    return String(this.#next)
  }
}

/**
 * The request envelope `{ id, version: '1.0', params, sys?, method? }` (docs/protocol.md §2.1): `sys.ack`
 * only when it is 0 (the cloud then sends no reply), `method` only when given (4.x omits it).
 */
export function requestEnvelope(
  id: string,
  params: unknown,
  options: { method?: string | undefined; ack?: 0 | 1 | undefined } = {},
): Record<string, unknown> {
  const body: Record<string, unknown> = { id, version: '1.0', params }
  if (options.ack === 0) body.sys = { ack: 0 }
  if (options.method !== undefined) body.method = options.method
  return body
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The id of a message as the canonical string, accepting the numeric ids some SDKs send. */
export function normaliseId(value: unknown): string | undefined {
  if (typeof value === 'string' && value.length > 0 && value.length <= 64) return value
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return String(value)
  return undefined
}

/** Validates a reply envelope within the inbound limits: `id` and numeric `code` are mandatory (docs/protocol.md §2.1). */
export function parseReply(payload: Buffer | string, topic: string): AlinkReply {
  const body = parseJson(payload, topic)
  if (!isRecord(body))
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `reply on ${topic} is not an object`, { topic })
  const id = normaliseId(body.id)
  const code = typeof body.code === 'string' && /^\d+$/.test(body.code) ? Number(body.code) : body.code
  if (id === undefined || typeof code !== 'number' || !Number.isInteger(code)) {
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `reply on ${topic} lacks a valid id or code`, { topic })
  }
  const reply: AlinkReply = { id, code, data: body.data }
  if (typeof body.message === 'string') reply.message = body.message
  if (typeof body.method === 'string') reply.method = body.method
  return reply
}

/** Validates a request envelope within the inbound limits: `id` and `params` are mandatory; `method` may be absent (4.x). */
export function parseRequest(payload: Buffer | string, topic: string): AlinkRequest {
  const body = parseJson(payload, topic)
  if (!isRecord(body))
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `request on ${topic} is not an object`, { topic })
  const id = normaliseId(body.id)
  if (id === undefined || !('params' in body)) {
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `request on ${topic} lacks a valid id or params`, {
      topic,
    })
  }
  const request: AlinkRequest = {
    id,
    version: typeof body.version === 'string' ? body.version : '1.0',
    params: body.params,
  }
  if (typeof body.method === 'string') request.method = body.method
  if (isRecord(body.sys) && (body.sys.ack === 0 || body.sys.ack === 1)) request.sys = { ack: body.sys.ack }
  return request
}
