import { LinkkitError } from '@linkkit/core'
import type { TslRule } from './codes.js'
import type { Issue } from './compile.js'

/**
 * `details` of `ERR_TSL_VALIDATION` and `ERR_TSL_UNKNOWN_IDENTIFIER`. `platformCode` is the reply
 * code the platform uses for the violation (PROTOCOL §2.4).
 */
export interface TslValidationDetails {
  /** Dotted path of the offending value: `"Brightness"`, `"RGBColor.Red"`, `"Timers[3].Hour"`. */
  identifier: string
  /** Which rule failed (see `TslRule`). */
  rule: TslRule
  /** What the spec allows (a bound, the enum keys, a type name…). */
  expected: unknown
  /** The value received. */
  actual: unknown
  /** The platform's reply code for the violation (63xx). */
  platformCode: number
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (Array.isArray(value)) return value.length <= 10 ? `[${value.map(show).join(', ')}]` : 'an array'
  if (value === null || typeof value !== 'object') return String(value)
  return 'an object'
}

function describe(d: TslValidationDetails): string {
  switch (d.rule) {
    case 'min':
      return `must be at least ${show(d.expected)}, got ${show(d.actual)}`
    case 'max':
      return `must be at most ${show(d.expected)}, got ${show(d.actual)}`
    case 'length':
      return `must be at most ${show(d.expected)} UTF-8 bytes, got ${show(d.actual)}`
    case 'size':
      return `must hold at most ${show(d.expected)} items, got ${show(d.actual)}`
    case 'enum':
      return `must be one of ${show(d.expected)}, got ${show(d.actual)}`
    case 'member':
      return `is not a member of the struct (members: ${show(d.expected)})`
    case 'required':
      return 'is a struct member and is missing'
    case 'readonly':
      return 'is read-only (accessMode "r") and cannot be set'
    case 'time':
      return `time must be a non-negative integer of milliseconds, got ${show(d.actual)}`
    case 'unknown':
      return `is not defined in the thing model`
    case 'type':
      return typeof d.actual === 'boolean' && d.expected === '0 or 1'
        ? `must be the integer 0 or 1, got the boolean ${d.actual}`
        : `must be ${show(d.expected)}, got ${show(d.actual)}`
  }
}

function build(
  code: 'ERR_TSL_VALIDATION' | 'ERR_TSL_UNKNOWN_IDENTIFIER',
  d: TslValidationDetails,
): LinkkitError {
  const subject = d.identifier === '' ? 'params' : `"${d.identifier}"`
  return new LinkkitError(code, `${subject} ${describe(d)} (rule ${d.rule}, code ${d.platformCode})`, {
    details: { ...d },
  })
}

/** `ERR_TSL_VALIDATION` for an issue found under `identifier`. */
export function validationError(identifier: string, found: Issue): LinkkitError {
  const { path, rule, expected, actual, platformCode } = found
  return build('ERR_TSL_VALIDATION', { identifier: identifier + path, rule, expected, actual, platformCode })
}

/** `ERR_TSL_VALIDATION` with explicit fields (readonly, time, params not an object). */
export function ruleError(
  identifier: string,
  rule: TslRule,
  expected: unknown,
  actual: unknown,
  platformCode: number,
): LinkkitError {
  return build('ERR_TSL_VALIDATION', { identifier, rule, expected, actual, platformCode })
}

/** `ERR_TSL_UNKNOWN_IDENTIFIER`, with the platform code for the kind of identifier. */
export function unknownIdentifier(identifier: string, platformCode: number): LinkkitError {
  return build('ERR_TSL_UNKNOWN_IDENTIFIER', {
    identifier,
    rule: 'unknown',
    expected: undefined,
    actual: identifier,
    platformCode,
  })
}
