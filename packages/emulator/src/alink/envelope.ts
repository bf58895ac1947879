import { LinkkitError, WireCodes } from '@linkkit/core'
import { MAX_UPLINK_ID_LENGTH, uplinkId } from '../uplink-id.js'

/**
 * Reply codes the emulator answers uplinks with, the thing-model checks' 63xx included
 * (docs/protocol.md §2.4).
 */
export const AlinkCodes = {
  /** The request was handled. */
  success: WireCodes.success,
  /** "460: empty/invalid/too many params". */
  invalidParams: WireCodes.invalidParams,
  /** Internal emulator failure, "500: unknown platform error". */
  unknown: WireCodes.unknown,
  /** No such device. */
  deviceNotFound: WireCodes.deviceNotFound,
  /** "6106: map size must be < 200 (too many properties)". */
  tooManyProperties: WireCodes.tooManyProperties,
  /** "6207: data not JSON / data format error". */
  notJson: WireCodes.notJson,
  /** 6300: the method (event or service) is missing or not in the TSL. */
  methodNotFound: WireCodes.methodNotFound,
  /** "6301: params must be JSON object/array". */
  paramsNotObject: WireCodes.paramsNotObject,
  /** 6304: a param the event or service does not declare (also a read-only property in a set). */
  paramNotFound: WireCodes.paramNotFound,
  /** 6305: params of the wrong type, e.g. a sample whose `time` is not milliseconds. */
  paramsType: WireCodes.paramsType,
  /** 6306: a value breaks the spec of an `int`. */
  intSpec: WireCodes.intSpec,
  /** 6307: a value breaks the spec of a `float`. */
  floatSpec: WireCodes.floatSpec,
  /** 6308: a value breaks the spec of a `bool`. */
  boolSpec: WireCodes.boolSpec,
  /** 6309: a value breaks the spec of an `enum`. */
  enumSpec: WireCodes.enumSpec,
  /** 6310: a value breaks the spec of a `text`. */
  textSpec: WireCodes.textSpec,
  /** 6311: a value breaks the spec of a `date`. */
  dateSpec: WireCodes.dateSpec,
  /** 6312: a value breaks the spec of a `struct`. */
  structSpec: WireCodes.structSpec,
  /** "6313: TSL service not available". */
  tslUnavailable: WireCodes.tslUnavailable,
  /** 6315: the data does not satisfy the TSL; what an `array` answers, having no code of its own. */
  notTslData: WireCodes.notTslData,
  /** 6320: the product has no such property. */
  propertyNotFound: WireCodes.propertyNotFound,
  /** 6322: a value breaks the spec of a `double`. */
  doubleSpec: WireCodes.doubleSpec,
} as const

/** Largest uplink the emulator parses; bigger ones are answered 460 unread. */
export const MAX_UPLINK_BYTES = 256 * 1024
/** Deepest JSON nesting accepted; far beyond any TSL value, shallow enough for recursive checks. */
export const MAX_JSON_DEPTH = 64
/** "At most 200 properties per message" (docs/protocol.md §2.3). */
export const MAX_PROPERTIES = 200

/** An Alink request from a device, or why it could not be read. */
export type Uplink =
  | { ok: true; id: string; params: unknown; ack: boolean }
  | { ok: false; id: string | undefined; code: number; message: string }

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/**
 * Reads a request envelope (docs/protocol.md §2.1): `id` as string or number, `method` optional (4.x
 * omits it; the method comes from the topic), `sys.ack` 0 meaning "send no reply". A payload that
 * cannot be read keeps the id when one can be recovered, so the device still gets an error reply.
 */
export function parseUplink(payload: Buffer): Uplink {
  if (payload.length > MAX_UPLINK_BYTES) {
    return failed(
      recoverId(payload),
      AlinkCodes.invalidParams,
      `payload of ${payload.length} bytes is too large`,
    )
  }
  let body: unknown
  try {
    body = JSON.parse(payload.toString('utf8'))
  } catch {
    return failed(recoverId(payload), AlinkCodes.notJson, 'payload is not valid JSON')
  }
  if (!isRecord(body)) return failed(recoverId(payload), AlinkCodes.notJson, 'payload is not a JSON object')
  const id = uplinkId(body.id)
  if (id === undefined) return failed(undefined, AlinkCodes.invalidParams, 'id is missing or invalid')
  if (depthExceeds(body, MAX_JSON_DEPTH)) {
    return failed(id, AlinkCodes.invalidParams, `JSON is nested deeper than ${MAX_JSON_DEPTH} levels`)
  }
  if (!('params' in body)) return failed(id, AlinkCodes.invalidParams, 'params is missing')
  const ack = !(isRecord(body.sys) && (body.sys.ack === 0 || body.sys.ack === '0'))
  return { ok: true, id, params: body.params, ack }
}

function failed(id: string | undefined, code: number, message: string): Uplink {
  return { ok: false, id, code, message }
}

const ID_PATTERN = new RegExp(`"id"\\s*:\\s*(?:"([^"\\\\]{1,${MAX_UPLINK_ID_LENGTH}})"|(\\d{1,15})\\b)`)

/** The `id` of a payload that is not valid JSON, read from its first kilobytes. */
export function recoverId(payload: Buffer): string | undefined {
  const match = ID_PATTERN.exec(payload.subarray(0, 4096 + MAX_UPLINK_ID_LENGTH).toString('utf8'))
  return match === null ? undefined : (match[1] ?? match[2])
}

/** The id of a reply: from its JSON, else recovered (3.x sends some replies without braces). */
export function replyId(payload: Buffer): string | undefined {
  try {
    const body: unknown = JSON.parse(payload.toString('utf8'))
    return isRecord(body) ? uplinkId(body.id) : undefined
  } catch {
    return recoverId(payload)
  }
}

/** A device's answer to a platform request, without its id (the waiter already matched it). */
export interface DeviceAnswer {
  code: number
  data: unknown
  message?: string
}

/**
 * Reads a device's reply to a downlink: `code` a number (or a decimal string), `data` and an
 * optional `message`. The id is not checked here: a reply may carry a fresh one (§6 item 16).
 */
export function readDeviceAnswer(payload: Buffer, topic: string): DeviceAnswer {
  let body: unknown
  try {
    body = JSON.parse(payload.toString('utf8'))
  } catch (cause) {
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `payload on ${topic} is not valid JSON`, { topic, cause })
  }
  const raw = isRecord(body) ? body.code : undefined
  const code = typeof raw === 'string' && /^\d{1,10}$/.test(raw) ? Number(raw) : raw
  if (!isRecord(body) || typeof code !== 'number' || !Number.isInteger(code)) {
    throw new LinkkitError('ERR_MALFORMED_PAYLOAD', `reply on ${topic} lacks a valid code`, { topic })
  }
  const answer: DeviceAnswer = { code, data: body.data }
  if (typeof body.message === 'string') answer.message = body.message
  return answer
}

function depthExceeds(root: unknown, limit: number): boolean {
  const stack: Array<[unknown, number]> = [[root, 1]]
  for (let item = stack.pop(); item !== undefined; item = stack.pop()) {
    const [value, depth] = item
    if (typeof value !== 'object' || value === null) continue
    if (depth > limit) return true
    for (const child of Object.values(value)) stack.push([child, depth + 1])
  }
  return false
}

const MESSAGES: Readonly<Record<number, string>> = {
  [WireCodes.success]: 'success',
  [WireCodes.invalidParams]: 'request parameter error',
  [WireCodes.unknown]: 'unknown platform error',
  [WireCodes.deviceNotFound]: 'device not found',
  [WireCodes.tooManyProperties]: 'map size must less than 200',
  [WireCodes.notJson]: 'data format error',
  [WireCodes.paramsNotObject]: 'params must be a JSON object',
  [WireCodes.tslUnavailable]: 'tsl service not available',
}

/**
 * The platform's reply: `{"id":"<id>","code":200,"data":{},"message":"success","method":..,"version":"1.0"}`
 * with `id` always a string (docs/protocol.md §2.1, §6 item 4).
 */
export function replyPayload(id: string, method: string, answer: Answer): string {
  const { code, data = {}, message = MESSAGES[code] ?? 'error' } = answer
  return JSON.stringify({ id, code, data, message, method, version: '1.0' })
}

/** What a handler answers an uplink with. */
export interface Answer {
  code: number
  data?: unknown
  message?: string | undefined
}

export const OK: Answer = Object.freeze({ code: AlinkCodes.success })

export function fail(code: number, message?: string): Answer {
  return { code, message }
}
