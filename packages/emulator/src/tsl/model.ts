import type { LinkkitError } from '@linkkit/core'
import { AlinkCodes } from '../alink/envelope.js'
import {
  type EventDef,
  type Param,
  type Property,
  readTsl,
  type ServiceDef,
  type TslParts,
} from './document.js'
import { unknownError, type Violation, valueError } from './errors.js'
import { renderTsl } from './render.js'
import { checkValue } from './values.js'

/** What a property post check found: one error per refused entry, and the entries that passed. */
export interface PostCheck {
  errors: LinkkitError[]
  valid: Record<string, unknown>
}

/** "`time` may lie at most 24 h in the future" (docs/protocol.md §2.3, property post). */
export const MAX_FUTURE_MS = 24 * 60 * 60 * 1000

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/** A `{ value, time? }` sample: an object whose own keys are `value` and maybe `time` (§2.3). */
export function isSample(v: unknown): v is { value: unknown; time?: unknown } {
  if (!isObject(v) || !Object.hasOwn(v, 'value')) return false
  for (const key in v) if (key !== 'value' && key !== 'time' && Object.hasOwn(v, key)) return false
  return true
}

const notObject = (actual: unknown): Violation => ({
  path: '',
  rule: 'type',
  expected: 'a JSON object',
  actual,
  code: AlinkCodes.paramsNotObject,
})

/**
 * A product's thing model as the platform checks it, read from a TSL document with the
 * emulator's own parser (docs/protocol.md §2.5). Every check answers with the platform's codes
 * (§2.4) in LinkkitErrors: `ERR_TSL_UNKNOWN_IDENTIFIER` (6300 event or service, 6304 parameter,
 * 6320 property) or `ERR_TSL_VALIDATION` (63xx of the broken type, 6301, 6304 for a read-only
 * property in a set, 6305 for a bad sample time).
 */
export class ProductTsl {
  readonly #parts: TslParts
  readonly #properties: ReadonlyMap<string, Property>
  readonly #events: ReadonlyMap<string, EventDef>
  readonly #services: ReadonlyMap<string, ServiceDef>

  /** Reads `document`; throws ERR_TSL_INVALID when it is malformed. */
  constructor(document: unknown) {
    this.#parts = readTsl(document)
    this.#properties = new Map(this.#parts.properties.map((p) => [p.identifier, p]))
    this.#events = new Map(this.#parts.events.map((e) => [e.identifier, e]))
    this.#services = new Map(this.#parts.services.map((s) => [s.identifier, s]))
  }

  /** How the cloud calls a service: `sync` over RRPC or `async`; undefined for an unknown one. */
  callType(serviceId: string): 'async' | 'sync' | undefined {
    if (serviceId === 'set' || serviceId === 'get') return 'async'
    return this.#services.get(serviceId)?.callType
  }

  /**
   * A property post's values, plain or `{ value, time }` samples (§2.3). The platform leaves out
   * what fails and keeps the rest: an unknown property (6320), a value breaking its spec, a sample
   * whose `time` is not milliseconds or lies more than 24 h after `now` (6305).
   */
  checkPost(params: Record<string, unknown>, now: number): PostCheck {
    const errors: LinkkitError[] = []
    // Prototype-less: an identifier such as `__proto__` stays a plain key.
    const valid: Record<string, unknown> = Object.create(null)
    for (const id in params) {
      if (!Object.hasOwn(params, id)) continue
      const posted = params[id]
      const property = this.#properties.get(id)
      const error =
        property === undefined
          ? unknownError(id, AlinkCodes.propertyNotFound)
          : this.#postedValue(property, posted, now)
      if (error === undefined) valid[id] = posted
      else errors.push(error)
    }
    return { errors, valid }
  }

  /**
   * A property set (and desired values): writable properties only, plain values. Throws the first
   * failure: 6320 for an unknown property, 6304 for a read-only one, else the type's code.
   */
  assertSettable(props: unknown): void {
    if (!isObject(props)) throw valueError('', notObject(props))
    for (const id in props) {
      if (!Object.hasOwn(props, id)) continue
      const value = props[id]
      const property = this.#properties.get(id)
      if (property === undefined) throw unknownError(id, AlinkCodes.propertyNotFound)
      if (property.accessMode !== 'rw') {
        const readOnly: Violation = {
          path: '',
          rule: 'readonly',
          expected: 'rw',
          actual: 'r',
          code: AlinkCodes.paramNotFound,
        }
        throw valueError(id, readOnly)
      }
      const broken = checkValue(property.dataType, value)
      if (broken !== undefined) throw valueError(id, broken)
    }
  }

  /**
   * An event post's params: its `outputData`, bare or wrapped as `{ value: {…}, time }` (§2.3; not
   * unwrapped for an event that declares an output named `value`). Every failure:
   * 6300 for an event the model lacks, 6304 for an unknown output, else the type's code.
   */
  checkEvent(eventId: string, params: unknown): LinkkitError[] {
    const event = this.#events.get(eventId)
    if (event === undefined) return [unknownError(eventId, AlinkCodes.methodNotFound)]
    const errors: LinkkitError[] = []
    let outputs = params
    if (
      isSample(params) &&
      isObject(params.value) &&
      !event.outputData.some((p) => p.identifier === 'value')
    ) {
      const late = sampleTime(params.time, undefined)
      if (late !== undefined) errors.push(valueError('time', late))
      outputs = params.value
    }
    return errors.concat(checkParams(event.outputData, outputs))
  }

  /**
   * What the cloud sends a service (`inputData`); for `set` writable property values, for `get` a
   * list of property identifiers. Throws the first failure (6300 for an unknown service).
   */
  assertServiceInput(serviceId: string, params: unknown): void {
    if (serviceId === 'set') {
      this.assertSettable(params)
      return
    }
    if (serviceId === 'get') {
      if (!Array.isArray(params))
        throw valueError('', { ...notObject(params), expected: 'an array of properties' })
      const unknown = params.find((id) => typeof id !== 'string' || !this.#properties.has(id))
      if (unknown !== undefined) throw unknownError(String(unknown), AlinkCodes.propertyNotFound)
      return
    }
    const service = this.#services.get(serviceId)
    if (service === undefined) throw unknownError(serviceId, AlinkCodes.methodNotFound)
    const [first] = checkParams(service.inputData, params)
    if (first !== undefined) throw first
  }

  /** The document `thing.dsltemplate.get` answers with, built-ins included. */
  document(productKey: string): Record<string, unknown> {
    return renderTsl(this.#parts, productKey)
  }

  #postedValue(property: Property, posted: unknown, now: number): LinkkitError | undefined {
    const { dataType } = property
    // A struct with a member named `value` is never read as a sample: `{ value }` is the struct.
    const plain = dataType.type === 'struct' && dataType.members.has('value')
    if (!plain && isSample(posted)) {
      const late = sampleTime(posted.time, now)
      if (late !== undefined) return valueError(`${property.identifier}.time`, late)
      const broken = checkValue(dataType, posted.value)
      return broken === undefined ? undefined : valueError(property.identifier, broken)
    }
    const broken = checkValue(dataType, posted)
    return broken === undefined ? undefined : valueError(property.identifier, broken)
  }
}

/** A sample's `time`: absent, or milliseconds since the epoch, and with `now` at most 24 h ahead. */
function sampleTime(time: unknown, now: number | undefined): Violation | undefined {
  if (time === undefined) return undefined
  const code = AlinkCodes.paramsType
  if (typeof time !== 'number' || !Number.isSafeInteger(time) || time < 0)
    return { path: '', rule: 'time', expected: 'milliseconds since the epoch', actual: time, code }
  if (now !== undefined && time > now + MAX_FUTURE_MS)
    return {
      path: '',
      rule: 'time',
      expected: `at most ${now + MAX_FUTURE_MS} (24 h ahead)`,
      actual: time,
      code,
    }
  return undefined
}

/** The params of an event or service against its declared ones: 6301 unless an object, 6304 unknown. */
function checkParams(declared: readonly Param[], params: unknown): LinkkitError[] {
  if (!isObject(params)) return [valueError('', notObject(params))]
  const errors: LinkkitError[] = []
  for (const id in params) {
    if (!Object.hasOwn(params, id)) continue
    const value = params[id]
    const param = declared.find((p) => p.identifier === id)
    if (param === undefined) {
      errors.push(unknownError(id, AlinkCodes.paramNotFound))
      continue
    }
    const broken = checkValue(param.dataType, value)
    if (broken !== undefined) errors.push(valueError(id, broken))
  }
  return errors
}
