import { type DataType, readDataType, readIdentifier } from './data-type.js'
import { documentError } from './errors.js'

/** An event output or a service input/output, read. */
export interface Param {
  readonly identifier: string
  readonly name: string | undefined
  /** The `dataType` as the document wrote it, for `thing.dsltemplate.get`. */
  readonly written: unknown
  readonly dataType: DataType
}

/** A property, read. */
export interface Property extends Param {
  readonly accessMode: 'rw' | 'r'
  readonly required: boolean
  readonly desc: string | undefined
}

/** A declared event or service (the built-ins are not declared: they derive from the properties). */
export interface Feature {
  readonly identifier: string
  readonly name: string | undefined
  readonly required: boolean
  readonly desc: string | undefined
}

/** A declared event. */
export interface EventDef extends Feature {
  readonly type: 'info' | 'alert' | 'error'
  readonly outputData: readonly Param[]
}

/** A declared service. */
export interface ServiceDef extends Feature {
  readonly callType: 'async' | 'sync'
  readonly inputData: readonly Param[]
  readonly outputData: readonly Param[]
}

/** A TSL document, read and checked; built-ins left out. */
export interface TslParts {
  readonly properties: readonly Property[]
  readonly events: readonly EventDef[]
  readonly services: readonly ServiceDef[]
}

/** The service `set` and `get` and the event `post`: always there, derived from the properties (§2.5). */
export const BUILT_IN_SERVICES: ReadonlySet<string> = new Set(['set', 'get'])
export const BUILT_IN_EVENT = 'post'

type Entry = Record<string, unknown>

function entries(doc: Entry, key: string, at: string): Entry[] {
  const list = doc[key]
  if (list === undefined) return []
  if (!Array.isArray(list)) throw documentError(at, 'type', `${key} must be an array`)
  return list.map((item: unknown, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw documentError(`${at}[${i}]`, 'type', 'an entry must be an object')
    return item as Entry
  })
}

function oneOf<T extends string>(
  value: unknown,
  allowed: readonly T[],
  fallback: T | undefined,
  at: string,
): T {
  if (value === undefined && fallback !== undefined) return fallback
  if (value === undefined) throw documentError(at, 'required', 'is missing')
  if (!allowed.includes(value as T))
    throw documentError(at, 'value', `${JSON.stringify(value)} is not one of ${allowed.join(', ')}`)
  return value as T
}

const optionalText = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined)

/** The `dataType` as written, copied the way it travels: as JSON. */
function written(dataType: unknown, at: string): unknown {
  try {
    return JSON.parse(JSON.stringify(dataType))
  } catch (cause) {
    throw documentError(at, 'type', 'dataType must be plain JSON', cause)
  }
}

function params(doc: Entry, key: string, at: string): Param[] {
  const seen = new Set<string>()
  return entries(doc, key, `${at}.${key}`).map((p, i) => {
    const here = `${at}.${key}[${i}]`
    const identifier = readIdentifier(p.identifier, `${here}.identifier`, seen)
    const dataType = readDataType(p.dataType, `${here}.dataType`)
    return { identifier, name: optionalText(p.name), written: written(p.dataType, here), dataType }
  })
}

function feature(e: Entry, identifier: string): Feature {
  return { identifier, name: optionalText(e.name), required: e.required === true, desc: optionalText(e.desc) }
}

/**
 * Reads a TSL document (docs/protocol.md §2.5), refusing a malformed one with ERR_TSL_INVALID whose
 * `details` name the `path` and the `rule`. Declared built-ins (`set`, `get`, `post`) are skipped:
 * they always follow from the properties. Any object with `properties`, `events` and `services`
 * of this shape reads, a model compiled by the SDK included.
 */
export function readTsl(raw: unknown): TslParts {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw))
    throw documentError('', 'type', 'a TSL document must be a JSON object')
  const doc = raw as Entry
  const propertyIds = new Set<string>()
  const properties = entries(doc, 'properties', 'properties').map((p, i): Property => {
    const at = `properties[${i}]`
    const identifier = readIdentifier(p.identifier, `${at}.identifier`, propertyIds)
    const accessMode = oneOf(p.accessMode, ['rw', 'r'], undefined, `${at}.accessMode`)
    const dataType = readDataType(p.dataType, `${at}.dataType`)
    return { ...feature(p, identifier), accessMode, written: written(p.dataType, at), dataType }
  })
  const eventIds = new Set<string>()
  const events = entries(doc, 'events', 'events').flatMap((e, i): EventDef[] => {
    const at = `events[${i}]`
    const identifier = readIdentifier(e.identifier, `${at}.identifier`, eventIds)
    if (identifier === BUILT_IN_EVENT) return []
    const type = oneOf(e.type, ['info', 'alert', 'error'], 'info', `${at}.type`)
    return [{ ...feature(e, identifier), type, outputData: params(e, 'outputData', at) }]
  })
  const serviceIds = new Set<string>()
  const services = entries(doc, 'services', 'services').flatMap((s, i): ServiceDef[] => {
    const at = `services[${i}]`
    const identifier = readIdentifier(s.identifier, `${at}.identifier`, serviceIds)
    if (BUILT_IN_SERVICES.has(identifier)) return []
    const callType = oneOf(s.callType, ['async', 'sync'], 'async', `${at}.callType`)
    const inputData = params(s, 'inputData', at)
    return [{ ...feature(s, identifier), callType, inputData, outputData: params(s, 'outputData', at) }]
  })
  return { properties, events, services }
}
