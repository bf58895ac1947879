import { uplinkId } from '../uplink-id.js'
import { DEFAULT_MODULE, type OtaDeviceRef } from './types.js'

export type Parsed<T> = ({ ok: true } & T) | { ok: false; error: string }

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** The pk/dn of an `/ota/device/<kind>/{pk}/{dn}` or `/sys/{pk}/{dn}/...` topic. */
export function topicDevice(topic: string): OtaDeviceRef | undefined {
  const levels = topic.split('/')
  const [productKey, deviceName] = levels[1] === 'sys' ? [levels[2], levels[3]] : [levels[4], levels[5]]
  if (productKey === undefined || deviceName === undefined) return undefined
  return { productKey, deviceName }
}

/** The first characters of a payload, for the record of an invalid message. */
export function rawText(payload: Buffer): string {
  return payload.subarray(0, 1024).toString('utf8').slice(0, 256)
}

interface Envelope {
  id: string | undefined
  params: Record<string, unknown>
  module: string
}

/**
 * `{"id":..,"params":{..,"module"?:..}}` as the SDKs send it: `id` a string, a number (4.x) or
 * always 0 (3.x), so it is never required; `module` missing, empty or "default" is the default.
 */
function envelope(payload: Buffer, paramsRequired: boolean): Parsed<Envelope> {
  let body: unknown
  try {
    body = JSON.parse(payload.toString('utf8'))
  } catch {
    return { ok: false, error: 'payload is not valid JSON' }
  }
  if (!isRecord(body)) return { ok: false, error: 'payload is not a JSON object' }
  const params = body.params ?? (paramsRequired ? undefined : {})
  if (!isRecord(params)) return { ok: false, error: 'params is missing or not an object' }
  const module = params.module
  if (module !== undefined && typeof module !== 'string')
    return { ok: false, error: 'module is not a string' }
  return {
    ok: true,
    id: uplinkId(body.id),
    params,
    module: module === undefined || module === '' ? DEFAULT_MODULE : module,
  }
}

/** A version inform `{"id","params":{"version","module"?}}` (docs/protocol.md §3.2). */
export function parseInform(payload: Buffer): Parsed<{ version: string; module: string }> {
  const e = envelope(payload, true)
  if (!e.ok) return e
  const version = e.params.version
  if (typeof version !== 'string' || version.length === 0 || version.length > 64) {
    return { ok: false, error: 'version must be a string of 1-64 characters' }
  }
  return { ok: true, version, module: e.module }
}

/**
 * A progress report `{"id","params":{"step":"<n>","desc","module"?}}` (docs/protocol.md §3.5): `step`
 * is a string (a number is tolerated), -4..100; `desc` may be absent.
 */
export function parseProgress(payload: Buffer): Parsed<{ step: number; desc: string; module: string }> {
  const e = envelope(payload, true)
  if (!e.ok) return e
  const raw = e.params.step
  const step =
    typeof raw === 'string' && /^-?\d{1,4}$/.test(raw.trim())
      ? Number(raw.trim())
      : typeof raw === 'number' && Number.isInteger(raw)
        ? raw
        : undefined
  if (step === undefined) return { ok: false, error: 'step is not an integer' }
  if (step < -4 || step > 100) return { ok: false, error: `step ${step} is outside -4..100` }
  const desc = e.params.desc
  if (desc !== undefined && typeof desc !== 'string') return { ok: false, error: 'desc is not a string' }
  return { ok: true, step, desc: desc ?? '', module: e.module }
}

/**
 * A firmware query (`thing.ota.firmware.get`, 4.x sends only `{"id":n, "params":{}}`) or a legacy
 * `/ota/device/request` (`{"id","params":{"version"}}`); `params` may even be absent.
 */
export function parseQuery(payload: Buffer): Parsed<{ id: string | undefined; module: string }> {
  const e = envelope(payload, false)
  if (!e.ok) return e
  return { ok: true, id: e.id, module: e.module }
}
