import { LinkkitError, type TslDocumentRule, type TslRule } from '@linkkit/core'

/** Why a value failed: the rules of `details.rule` of `ERR_TSL_VALIDATION` and `ERR_TSL_UNKNOWN_IDENTIFIER`. */
export type ValueRule = TslRule

/** What a value broke, with the platform's reply code for it (docs/protocol.md §2.4). */
export interface Violation {
  /** Where inside the checked value: `''`, `'.Red'`, `'[3].Hour'`. */
  path: string
  rule: ValueRule
  /** What the spec allows. */
  expected: unknown
  /** What arrived. */
  actual: unknown
  /** The platform's code (63xx). */
  code: number
}

function shown(value: unknown): string {
  const json = JSON.stringify(value)
  if (json === undefined) return String(value)
  return json.length > 60 ? `${json.slice(0, 57)}...` : json
}

/**
 * `ERR_TSL_VALIDATION` (or `ERR_TSL_UNKNOWN_IDENTIFIER` for rule `unknown`) about `identifier`.
 * `details` hold `identifier` (with the violation's path), `rule`, `expected`, `actual` and
 * `platformCode`, the code the platform answers for it.
 */
export function valueError(identifier: string, v: Violation): LinkkitError {
  const where = `${identifier}${v.path}`
  const what =
    v.rule === 'unknown'
      ? 'is not in the thing model'
      : `breaks rule ${v.rule}: expected ${shown(v.expected)}, got ${shown(v.actual)}`
  return new LinkkitError(
    v.rule === 'unknown' ? 'ERR_TSL_UNKNOWN_IDENTIFIER' : 'ERR_TSL_VALIDATION',
    `${where === '' ? 'params' : `"${where}"`} ${what} (platform code ${v.code})`,
    {
      details: {
        identifier: where,
        rule: v.rule,
        expected: v.expected,
        actual: v.actual,
        platformCode: v.code,
      },
    },
  )
}

/** `ERR_TSL_UNKNOWN_IDENTIFIER` for a property, parameter, event or service the model lacks. */
export function unknownError(identifier: string, code: number): LinkkitError {
  return valueError(identifier, { path: '', rule: 'unknown', expected: undefined, actual: identifier, code })
}

/** Why a TSL document was refused: the rules of `ERR_TSL_INVALID`'s `details.rule`. */
export type DocumentRule = TslDocumentRule

/** `ERR_TSL_INVALID` for the part of a document at `path` (`properties[2].dataType.specs.min`). */
export function documentError(
  path: string,
  rule: DocumentRule,
  message: string,
  cause?: unknown,
): LinkkitError {
  return new LinkkitError('ERR_TSL_INVALID', `TSL ${path === '' ? 'document' : path}: ${message}`, {
    details: { path, rule },
    cause,
  })
}
