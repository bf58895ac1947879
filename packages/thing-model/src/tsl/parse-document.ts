import type { ParsedDocument, ThingEvent, ThingParam, ThingProperty, ThingService } from './definitions.js'
import { checkIdentifier, invalidTsl } from './document-error.js'
import { parseDataType } from './parse-data-type.js'
import { isPlainObject } from './spec.js'
import type { TslAccessMode, TslCallType, TslDataType } from './types.js'

/** Identifiers of the built-in features (PROTOCOL §2.5); they are derived, never read from the document. */
export const BUILT_IN_SERVICES: ReadonlySet<string> = new Set(['set', 'get'])
export const BUILT_IN_EVENT = 'post'

const EVENT_TYPES: ReadonlySet<string> = new Set(['info', 'alert', 'error'])

function list(raw: Record<string, unknown>, key: string, path: string): unknown[] {
  const value = raw[key]
  if (value === undefined) return []
  if (!Array.isArray(value)) throw invalidTsl(path, 'type', `${key} must be an array`)
  return value
}

function entry(value: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(value)) throw invalidTsl(path, 'type', 'an entry must be an object')
  return value
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined
}

function oneOf<T extends string>(value: unknown, allowed: ReadonlySet<string>, fallback: T, path: string): T {
  if (value === undefined) return fallback
  if (typeof value !== 'string' || !allowed.has(value)) {
    throw invalidTsl(path, 'value', `${JSON.stringify(value)} is not one of ${[...allowed].join(', ')}`)
  }
  return value as T
}

function parseParams(raw: Record<string, unknown>, key: string, path: string): ThingParam[] {
  const seen = new Set<string>()
  return list(raw, key, `${path}.${key}`).map((item, i) => {
    const at = `${path}.${key}[${i}]`
    const p = entry(item, at)
    const identifier = checkIdentifier(p.identifier, `${at}.identifier`, seen)
    const spec = parseDataType(p.dataType, `${at}.dataType`, 'top')
    return { identifier, name: text(p.name), dataType: p.dataType as TslDataType, spec }
  })
}

function parseProperty(item: unknown, at: string, seen: Set<string>): ThingProperty {
  const p = entry(item, at)
  const identifier = checkIdentifier(p.identifier, `${at}.identifier`, seen)
  if (p.accessMode === undefined) throw invalidTsl(`${at}.accessMode`, 'required', 'accessMode is missing')
  const accessMode = oneOf<TslAccessMode>(p.accessMode, new Set(['rw', 'r']), 'rw', `${at}.accessMode`)
  const spec = parseDataType(p.dataType, `${at}.dataType`, 'top')
  return {
    identifier,
    name: text(p.name),
    accessMode,
    required: p.required === true,
    dataType: p.dataType as TslDataType,
    spec,
  }
}

function parseEvent(e: Record<string, unknown>, identifier: string, at: string): ThingEvent {
  return {
    identifier,
    name: text(e.name),
    type: oneOf(e.type, EVENT_TYPES, 'info', `${at}.type`),
    method: `thing.event.${identifier}.post`,
    outputData: parseParams(e, 'outputData', at),
    builtIn: false,
  }
}

function parseService(s: Record<string, unknown>, identifier: string, at: string): ThingService {
  return {
    identifier,
    name: text(s.name),
    callType: oneOf<TslCallType>(s.callType, new Set(['async', 'sync']), 'async', `${at}.callType`),
    method: `thing.service.${identifier}`,
    inputData: parseParams(s, 'inputData', at),
    outputData: parseParams(s, 'outputData', at),
    builtIn: false,
  }
}

/** Checks a TSL document (PROTOCOL §2.5) and returns its parts; throws `ERR_TSL_INVALID`. */
export function parseDocument(raw: unknown): ParsedDocument {
  if (!isPlainObject(raw)) throw invalidTsl('', 'type', 'a TSL document must be a JSON object')
  const profile = raw.profile
  const productKey = isPlainObject(profile) ? text(profile.productKey) : undefined

  const propertyIds = new Set<string>()
  const properties = list(raw, 'properties', 'properties').map((item, i) =>
    parseProperty(item, `properties[${i}]`, propertyIds),
  )

  const eventIds = new Set<string>()
  const events: ThingEvent[] = []
  list(raw, 'events', 'events').forEach((item, i) => {
    const at = `events[${i}]`
    const e = entry(item, at)
    const identifier = checkIdentifier(e.identifier, `${at}.identifier`, eventIds)
    if (identifier !== BUILT_IN_EVENT) events.push(parseEvent(e, identifier, at))
  })

  const serviceIds = new Set<string>()
  const services: ThingService[] = []
  list(raw, 'services', 'services').forEach((item, i) => {
    const at = `services[${i}]`
    const s = entry(item, at)
    const identifier = checkIdentifier(s.identifier, `${at}.identifier`, serviceIds)
    if (!BUILT_IN_SERVICES.has(identifier)) services.push(parseService(s, identifier, at))
  })

  return { productKey, properties, events, services }
}
