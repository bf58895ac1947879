import { LinkkitError } from './errors.js'

/** Limits every inbound JSON payload is held to before it is parsed or handed on. */
export interface InboundLimits {
  /**
   * Larger payloads are refused unparsed. The platform limits an MQTT message to 256 KB, so
   * nothing legitimate is larger. @default 262144
   */
  maxPayloadBytes: number
  /**
   * Deepest nesting below the envelope (`params` / `data` and what they hold). A TSL value is at
   * most an array of structs (depth 3) and an offer's `extData` is flat, so anything far deeper is
   * hostile. @default 32
   */
  maxDepth: number
}

/** 256 KiB and 32 levels: the limits docs/security.md documents for every downlink. */
export const DEFAULT_INBOUND_LIMITS: Readonly<InboundLimits> = Object.freeze({
  maxPayloadBytes: 256 * 1024,
  maxDepth: 32,
})

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

const OPEN_BRACE = 0x7b // {
const OPEN_BRACKET = 0x5b // [

/**
 * False when the JSON text cannot hold a value nested deeper than `max` levels: each level is an
 * object or array and opens with `{` or `[`, so text with at most `max` of those bytes (counted
 * inside strings too, which only errs towards walking) is shallow enough. Lets a small payload,
 * every reply and most requests, skip the walk over the parsed value.
 */
function mayNestDeeperThan(payload: Buffer | string, max: number): boolean {
  const length = payload.length
  // `max + 1` levels need as many opening and as many closing brackets.
  if (length < 2 * (max + 1)) return false
  let opened = 0
  if (typeof payload === 'string') {
    for (let i = 0; i < length; i++) {
      const c = payload.charCodeAt(i)
      if ((c === OPEN_BRACE || c === OPEN_BRACKET) && ++opened > max) return true
    }
  } else {
    for (let i = 0; i < length; i++) {
      const c = payload[i]
      if ((c === OPEN_BRACE || c === OPEN_BRACKET) && ++opened > max) return true
    }
  }
  return false
}

/**
 * Parses an inbound JSON payload within `limits`, or throws ERR_MALFORMED_PAYLOAD naming the topic:
 * too large (checked before any parsing, `details.bytes` / `maxPayloadBytes`), not JSON, or nested
 * deeper than `maxDepth` below the envelope (`details.maxDepth`).
 */
export function parseJson(
  payload: Buffer | string,
  topic: string,
  limits: Readonly<InboundLimits> = DEFAULT_INBOUND_LIMITS,
): unknown {
  const bytes = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.length
  if (bytes > limits.maxPayloadBytes) {
    throw new LinkkitError(
      'ERR_MALFORMED_PAYLOAD',
      `payload on ${topic} is ${bytes} bytes, over the ${limits.maxPayloadBytes} limit`,
      { topic, details: { bytes, maxPayloadBytes: limits.maxPayloadBytes } },
    )
  }
  let body: unknown
  try {
    body = JSON.parse(typeof payload === 'string' ? payload : payload.toString('utf8'))
  } catch (cause) {
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `payload on ${topic} is not valid JSON`, { topic, cause })
  }
  if (mayNestDeeperThan(payload, limits.maxDepth + 1) && nestsDeeperThan(body, limits.maxDepth + 1)) {
    throw new LinkkitError(
      'ERR_MALFORMED_PAYLOAD',
      `payload on ${topic} nests deeper than ${limits.maxDepth} levels`,
      { topic, details: { maxDepth: limits.maxDepth } },
    )
  }
  return body
}

const HEAD_ID = /"id"\s*:\s*(?:"([^"\\]{1,64})"|(\d{1,15})\b)/

/**
 * The Alink `id` of a payload that was refused unparsed, read from its first 512 bytes only (cheap
 * on huge input), so the cloud can still be answered (a `push_reply` 460) or a waiting request failed.
 */
export function peekId(payload: Buffer | string): string | undefined {
  const head =
    typeof payload === 'string' ? payload.slice(0, 512) : payload.subarray(0, 512).toString('latin1')
  const match = HEAD_ID.exec(head)
  if (!match) return undefined
  if (match[1] !== undefined) return match[1]
  const n = Number(match[2])
  return Number.isSafeInteger(n) ? String(n) : undefined
}
