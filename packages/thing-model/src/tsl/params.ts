import type { LinkkitError } from '@linkkit/core'
import { TslPlatformCodes } from './codes.js'
import type { Check } from './compile.js'
import { isPlainObject } from './spec.js'
import { ruleError, unknownIdentifier, validationError } from './validation-error.js'

/** A compiled property or parameter, looked up by identifier. */
export interface ParamEntry {
  readonly check: Check
  readonly writable: boolean
  /** False for a struct that declares a member named `value`: `{ value, time }` would be ambiguous. */
  readonly sampleable: boolean
}

/** How a params object is scanned. */
export interface ScanMode {
  /** Platform code for an identifier not in the table: 6320 for properties, 6304 for params. */
  readonly unknownCode: number
  /** Refuse `accessMode: "r"` properties (property set). */
  readonly writableOnly: boolean
  /** Accept `{ value, time }` samples (property post). */
  readonly samples: boolean
}

/**
 * True for a `{ value, time? }` sample: an object whose own keys are `value` and, optionally,
 * `time` (PROTOCOL §2.3, property post with timestamps; event post `params`).
 */
export function isSample(v: unknown): v is { value: unknown; time?: unknown } {
  if (!isPlainObject(v) || !Object.hasOwn(v, 'value')) return false
  for (const key in v) if (key !== 'value' && key !== 'time') return false
  return true
}

/** Checks the `time` of a sample: absent, or a non-negative integer of ms. */
export function checkTime(identifier: string, sample: { time?: unknown }): LinkkitError | undefined {
  const t = sample.time
  if (t === undefined || (typeof t === 'number' && Number.isSafeInteger(t) && t >= 0)) return undefined
  return ruleError(identifier, 'time', 'integer milliseconds', t, TslPlatformCodes.typeError)
}

function checkEntry(
  entry: ParamEntry | undefined,
  key: string,
  value: unknown,
  mode: ScanMode,
): LinkkitError | undefined {
  if (entry === undefined) return unknownIdentifier(key, mode.unknownCode)
  if (mode.writableOnly && !entry.writable) {
    return ruleError(key, 'readonly', 'rw', 'r', TslPlatformCodes.paramNotExist)
  }
  let v = value
  if (mode.samples && entry.sampleable && isSample(value)) {
    const bad = checkTime(key, value)
    if (bad !== undefined) return bad
    v = value.value
  }
  const found = entry.check(v)
  return found === undefined ? undefined : validationError(key, found)
}

/**
 * Checks every entry of `params` against `table`. Without `errors` it stops at the first failure and
 * returns it (the throwing validators); with `errors` it collects them all and copies the entries
 * that passed into `valid` (the `check*` variants).
 */
export function scanParams(
  table: ReadonlyMap<string, ParamEntry>,
  params: unknown,
  mode: ScanMode,
  errors?: LinkkitError[],
  valid?: Record<string, unknown>,
): LinkkitError | undefined {
  if (!isPlainObject(params)) {
    const error = ruleError('', 'type', 'object', params, TslPlatformCodes.paramsNotObject)
    errors?.push(error)
    return error
  }
  for (const key in params) {
    if (!Object.hasOwn(params, key)) continue
    const value = params[key]
    const error = checkEntry(table.get(key), key, value, mode)
    if (error === undefined) {
      if (valid !== undefined) valid[key] = value
    } else if (errors === undefined) {
      return error
    } else {
      errors.push(error)
    }
  }
  return errors?.[0]
}
