import type { LinkkitError } from '@linkkit/core'
import { TslPlatformCodes } from './codes.js'
import type { ParsedDocument, ThingEvent, ThingProperty, ThingService } from './definitions.js'
import { type CompiledService, compileFeatures, type Features, type Scan } from './features.js'
import { checkTime, isSample } from './params.js'
import { isPlainObject } from './spec.js'
import { unknownIdentifier } from './validation-error.js'

/** Options of {@link ThingModel.validateProperties}. */
export interface ValidatePropertiesOptions {
  /**
   * Check a property set: refuse `accessMode: "r"` properties (rule `readonly`, code 6304, as they
   * are not inputs of the `set` service) and `{ value, time }` samples. Otherwise check a property
   * post, where each value may be plain or a `{ value, time }` sample.
   * @default false
   */
  writableOnly?: boolean
}

/** Result of the non-throwing `check*` methods. */
export interface TslCheckResult {
  /** True when nothing failed. */
  ok: boolean
  /** One `ERR_TSL_VALIDATION` or `ERR_TSL_UNKNOWN_IDENTIFIER` per failed entry, in params order. */
  errors: LinkkitError[]
  /** The entries that passed, as given (for the `get` service input: each known identifier → true). */
  valid: Record<string, unknown>
}

function collect(scan: Scan, params: unknown): TslCheckResult {
  const errors: LinkkitError[] = []
  const valid: Record<string, unknown> = {}
  scan(params, errors, valid)
  return { ok: errors.length === 0, errors, valid }
}

function report(error: LinkkitError, errors: LinkkitError[] | undefined): LinkkitError {
  errors?.push(error)
  return error
}

function throwIf(error: LinkkitError | undefined): void {
  if (error !== undefined) throw error
}

/**
 * A compiled thing model. Each `dataType` is compiled once into a validator, so checking a post
 * costs a map lookup and a few comparisons per value and allocates nothing while values pass.
 * Create it with `parseThingModel` or `loadThingModel`.
 *
 * Value rules: `int` is a JSON integer within min–max; `float` and `double` a finite number within
 * min–max. `step` is a console hint the platform does not enforce on values, so it is not checked.
 * `text` is a string of at most `length` UTF-8 bytes (as the platform counts it).
 * `date` is a string of UTC ms digits (the wire form) or a non-negative integer number. `bool` is
 * the integer 0 or 1; `true`/`false` are refused. `enum` is one of the declared integer keys.
 * `struct` is an object with exactly its declared members. `array` holds at most `size` items, each
 * of its item type. Numbers written as strings are refused. Event and service params may omit
 * parameters; a struct may not omit members.
 *
 * Failures are `LinkkitError`s: `ERR_TSL_VALIDATION` or `ERR_TSL_UNKNOWN_IDENTIFIER` whose
 * `details` are `TslValidationDetails`, with the platform's 63xx code in `platformCode`.
 */
export class ThingModel {
  /** `profile.productKey` of the document, when it has one. */
  readonly productKey: string | undefined
  /** Every property, in document order. */
  readonly properties: readonly ThingProperty[]
  /** Every event, the built-in `post` first. */
  readonly events: readonly ThingEvent[]
  /** Every service, the built-ins `set` and `get` first. */
  readonly services: readonly ThingService[]
  readonly #f: Features

  /** @internal Use `parseThingModel` or `loadThingModel`. */
  constructor(parsed: ParsedDocument) {
    this.#f = compileFeatures(parsed)
    this.productKey = parsed.productKey
    this.properties = Object.freeze([...parsed.properties])
    this.events = Object.freeze([...this.#f.events.values()].map((e) => e.def))
    this.services = Object.freeze([...this.#f.services.values()].map((s) => s.def))
  }

  /** Whether the model defines the property. */
  hasProperty(identifier: string): boolean {
    return this.#f.properties.has(identifier)
  }

  /** The property's definition, or undefined. */
  property(identifier: string): ThingProperty | undefined {
    return this.#f.properties.get(identifier)
  }

  /** True for a declared event and for the built-in `post`. */
  hasEvent(identifier: string): boolean {
    return this.#f.events.has(identifier)
  }

  /** The event's definition, or undefined. */
  event(identifier: string): ThingEvent | undefined {
    return this.#f.events.get(identifier)?.def
  }

  /** True for a declared service and for the built-ins `set` and `get`. */
  hasService(identifier: string): boolean {
    return this.#f.services.has(identifier)
  }

  /** The service's definition, or undefined. */
  service(identifier: string): ThingService | undefined {
    return this.#f.services.get(identifier)?.def
  }

  /** How the cloud invokes the service. Throws `ERR_TSL_UNKNOWN_IDENTIFIER` (code 6300) if undefined. */
  serviceCallType(identifier: string): 'async' | 'sync' {
    const service = this.#f.services.get(identifier)
    if (service === undefined) throw unknownIdentifier(identifier, TslPlatformCodes.methodNotExist)
    return service.def.callType
  }

  /**
   * Checks property values of a post or, with `writableOnly`, of a set. Throws the first failure:
   * `ERR_TSL_UNKNOWN_IDENTIFIER` (code 6320) for a property not in the model, `ERR_TSL_VALIDATION`
   * otherwise (code of the violated type, e.g. 6306 for int).
   */
  validateProperties(props: Record<string, unknown>, options: ValidatePropertiesOptions = {}): void {
    throwIf((options.writableOnly === true ? this.#f.set : this.#f.post)(props))
  }

  /**
   * Like {@link ThingModel.validateProperties} but returns every failure and the entries that
   * passed, so a caller can drop invalid properties and keep the rest, as the platform does.
   */
  checkProperties(props: Record<string, unknown>, options: ValidatePropertiesOptions = {}): TslCheckResult {
    return collect(options.writableOnly === true ? this.#f.set : this.#f.post, props)
  }

  /**
   * Checks the params of an event post: its `outputData`, bare (`{ power: 10 }`) or wrapped
   * (`{ value: { power: 10 }, time }`), both seen on the wire (PROTOCOL §2.3). For `post` the params
   * are property values. Throws `ERR_TSL_UNKNOWN_IDENTIFIER` (6300 for the event, 6304 for a param)
   * or `ERR_TSL_VALIDATION`.
   */
  validateEventParams(eventId: string, params: unknown): void {
    throwIf(this.#scanEvent(eventId, params))
  }

  /** Non-throwing {@link ThingModel.validateEventParams}. */
  checkEventParams(eventId: string, params: unknown): TslCheckResult {
    return collect((p, e, v) => this.#scanEvent(eventId, p, e, v), params)
  }

  /**
   * Checks the params the cloud sends to a service (`inputData`). For `set` these are writable
   * property values; for `get` an array of property identifiers. Throws `ERR_TSL_UNKNOWN_IDENTIFIER`
   * (6300 for the service, 6304 for a param, 6320 for a property) or `ERR_TSL_VALIDATION`.
   */
  validateServiceInput(serviceId: string, params: unknown): void {
    throwIf(this.#service(serviceId, 'input')(params))
  }

  /** Non-throwing {@link ThingModel.validateServiceInput}. */
  checkServiceInput(serviceId: string, params: unknown): TslCheckResult {
    return collect(this.#service(serviceId, 'input'), params)
  }

  /** Checks the `data` a device answers a service with (`outputData`); throws like the input check. */
  validateServiceOutput(serviceId: string, data: unknown): void {
    throwIf(this.#service(serviceId, 'output')(data))
  }

  /** Non-throwing {@link ThingModel.validateServiceOutput}. */
  checkServiceOutput(serviceId: string, data: unknown): TslCheckResult {
    return collect(this.#service(serviceId, 'output'), data)
  }

  #service(identifier: string, side: keyof Omit<CompiledService, 'def'>): Scan {
    const service = this.#f.services.get(identifier)
    if (service !== undefined) return service[side]
    const error = unknownIdentifier(identifier, TslPlatformCodes.methodNotExist)
    return (_params, errors) => report(error, errors)
  }

  #scanEvent(
    eventId: string,
    params: unknown,
    errors?: LinkkitError[],
    valid?: Record<string, unknown>,
  ): LinkkitError | undefined {
    const event = this.#f.events.get(eventId)
    if (event === undefined)
      return report(unknownIdentifier(eventId, TslPlatformCodes.methodNotExist), errors)
    if (!event.wrapped || !isSample(params) || !isPlainObject(params.value))
      return event.scan(params, errors, valid)
    const badTime = checkTime('time', params)
    if (badTime !== undefined) {
      report(badTime, errors)
      if (errors === undefined) return badTime
    }
    return event.scan(params.value, errors, valid)
  }
}
