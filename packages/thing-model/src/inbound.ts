import {
  type AlinkRequest,
  type InboundLimits,
  LinkkitError,
  normaliseId,
  parseJson,
  peekId,
  toLinkkitError,
} from '@linkkit/core'

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** What an inbound message on a request topic turned out to be. */
export type Inbound =
  | { kind: 'request'; request: AlinkRequest }
  /** A reply (`code`, no `params`): our own answer handed back by a broker that echoes to subscribers. */
  | { kind: 'echo' }
  /** Refused; `id` is set when it could be recovered, so the cloud can still be answered. */
  | { kind: 'invalid'; error: LinkkitError; id: string | undefined }

function invalid(topic: string, message: string, id: string | undefined): Inbound {
  return {
    kind: 'invalid',
    error: new LinkkitError('ERR_MALFORMED_PAYLOAD', message, { topic, details: { id } }),
    id,
  }
}

/** Parses a JSON payload within the size and depth limits (core's `parseJson`). Never throws. */
export function readJson(
  topic: string,
  payload: Buffer,
  limits: InboundLimits,
): { ok: true; body: unknown } | { ok: false; error: LinkkitError } {
  try {
    return { ok: true, body: parseJson(payload, topic, limits) }
  } catch (error) {
    return { ok: false, error: toLinkkitError(error, 'ERR_MALFORMED_PAYLOAD') }
  }
}

/**
 * Reads an Alink request (docs/protocol.md §2.1): `id` (string or number) and `params` are required;
 * `method` and `version` may be absent (4.x omits `method`). Never throws.
 */
export function readRequest(topic: string, payload: Buffer, limits: InboundLimits): Inbound {
  const json = readJson(topic, payload, limits)
  if (!json.ok) return { kind: 'invalid', error: json.error, id: peekId(payload) }
  const { body } = json
  if (!isRecord(body)) return invalid(topic, `request on ${topic} is not a JSON object`, undefined)
  const id = normaliseId(body.id)
  if ('code' in body && !('params' in body)) return { kind: 'echo' }
  if (id === undefined) return invalid(topic, `request on ${topic} has no valid id`, undefined)
  if (!('params' in body)) return invalid(topic, `request on ${topic} has no params`, id)
  const request: AlinkRequest = {
    id,
    version: typeof body.version === 'string' ? body.version : '1.0',
    params: body.params,
  }
  if (typeof body.method === 'string') request.method = body.method
  return { kind: 'request', request }
}
