import { type AlinkRequest, LinkkitError, normaliseId } from '@linkkit/core'

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Limits applied to every inbound payload before it reaches a handler. */
export interface InboundLimits {
  maxPayloadBytes: number
  maxDepth: number
}

/** What an inbound message on a request topic turned out to be. */
export type Inbound =
  | { kind: 'request'; request: AlinkRequest }
  /** A reply (`code`, no `params`): our own answer handed back by a broker that echoes to subscribers. */
  | { kind: 'echo' }
  /** Refused; `id` is set when it could be recovered, so the cloud can still be answered. */
  | { kind: 'invalid'; error: LinkkitError; id: string | undefined }

const HEAD_ID = /"id"\s*:\s*(?:"([^"\\]{1,64})"|(\d{1,15})\b)/

/** The id of a payload that cannot be parsed, read from its first bytes only (cheap on huge input). */
function headId(payload: Buffer): string | undefined {
  const match = HEAD_ID.exec(payload.subarray(0, 512).toString('latin1'))
  return match ? normaliseId(match[1] ?? Number(match[2])) : undefined
}

/** True when `value` nests deeper than `max` (iterative: hostile input cannot exhaust the stack). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 1 }]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const { v, depth } = item
    if (typeof v !== 'object' || v === null) continue
    if (depth > max) return true
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push({ v: child, depth: depth + 1 })
  }
  return false
}

function invalid(topic: string, message: string, id: string | undefined): Inbound {
  return {
    kind: 'invalid',
    error: new LinkkitError('ERR_MALFORMED_PAYLOAD', message, { topic, details: { id } }),
    id,
  }
}

/** Parses a JSON payload within the size and depth limits. Never throws. */
export function readJson(
  topic: string,
  payload: Buffer,
  limits: InboundLimits,
): { ok: true; body: unknown } | { ok: false; error: LinkkitError } {
  const fail = (message: string, cause?: unknown) => ({
    ok: false as const,
    error: new LinkkitError('ERR_MALFORMED_PAYLOAD', message, { topic, cause }),
  })
  if (payload.length > limits.maxPayloadBytes) {
    return fail(`payload on ${topic} is ${payload.length} bytes, over the ${limits.maxPayloadBytes} limit`)
  }
  let body: unknown
  try {
    body = JSON.parse(payload.toString('utf8'))
  } catch (cause) {
    return fail(`payload on ${topic} is not valid JSON`, cause)
  }
  if (nestsDeeperThan(body, limits.maxDepth + 1)) {
    return fail(`payload on ${topic} nests deeper than ${limits.maxDepth} levels`)
  }
  return { ok: true, body }
}

/**
 * Reads an Alink request (PROTOCOL.md §2.1): `id` (string or number) and `params` are required;
 * `method` and `version` may be absent (4.x omits `method`). Never throws.
 */
export function readRequest(topic: string, payload: Buffer, limits: InboundLimits): Inbound {
  const json = readJson(topic, payload, limits)
  if (!json.ok) return { kind: 'invalid', error: json.error, id: headId(payload) }
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
