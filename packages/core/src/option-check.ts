import { LinkkitError } from './errors.js'

/** ERR_INVALID_OPTIONS saying that option `name` must be `must`; `details.name` names the option. */
export function invalidOption(name: string, must: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_OPTIONS', `${name} must be ${must}`, { details: { name } })
}

/** The bounds of an integer option. */
export interface IntegerBounds {
  /** Smallest allowed value. @default 1 */
  min?: number
  /** Largest allowed value. @default Number.MAX_SAFE_INTEGER */
  max?: number
}

/**
 * The one check of an integer option, shared by every package's option resolver: `fallback` when
 * `value` is undefined, `value` when it is a safe integer within the bounds, ERR_INVALID_OPTIONS
 * (`<name> must be an integer from <min> to <max>`, or `… ≥ <min>` without a max) otherwise.
 */
export function integerOption(
  value: unknown,
  name: string,
  fallback: number,
  bounds: IntegerBounds = {},
): number {
  if (value === undefined) return fallback
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = bounds
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidOption(
      name,
      max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
    )
  }
  return value
}
