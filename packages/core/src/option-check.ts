import { LinkkitError } from './errors.js'

/**
 * ERR_INVALID_OPTIONS saying why option `name` is refused (`<name> <reason>`, e.g. `host must be a
 * host name`); `details.name` names the option.
 */
export function refusedOption(name: string, reason: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_OPTIONS', `${name} ${reason}`, { details: { name } })
}

/** ERR_INVALID_OPTIONS saying that option `name` must be `must`; `details.name` names the option. */
export function invalidOption(name: string, must: string): LinkkitError {
  return refusedOption(name, `must be ${must}`)
}

/** What one option must be: a type guard, and the words that end `<name> must be …`. */
export interface OptionRule<T> {
  /** Whether `value` is acceptable. */
  readonly test: (value: unknown) => value is T
  /** What an acceptable value is, e.g. `true or false`. */
  readonly must: string
}

/** `value` when `rule` accepts it; ERR_INVALID_OPTIONS (`<name> must be <rule.must>`) otherwise. */
export function requireOption<T>(value: unknown, name: string, rule: OptionRule<T>): T {
  if (!rule.test(value)) throw invalidOption(name, rule.must)
  return value
}

/** `fallback` when `value` is undefined, else as {@link requireOption}. */
export function checkOption<T>(value: unknown, name: string, rule: OptionRule<T>, fallback: T): T {
  return value === undefined ? fallback : requireOption(value, name, rule)
}

/** The bounds of an integer option. */
export interface IntegerBounds {
  /** Smallest allowed value. @default 1 */
  min?: number
  /** Largest allowed value. @default Number.MAX_SAFE_INTEGER */
  max?: number
}

/** A safe integer within `bounds` (`an integer from <min> to <max>`, or `an integer ≥ <min>` without a max). */
export function integerRule(bounds: IntegerBounds = {}): OptionRule<number> {
  const { min = 1, max = Number.MAX_SAFE_INTEGER } = bounds
  return {
    test: (v): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= min && v <= max,
    must: max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`,
  }
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
  return checkOption(value, name, integerRule(bounds), fallback)
}

/** The bounds of a number option (inclusive; `Infinity` allowed as `max`). */
export interface NumberBounds {
  /** Smallest allowed value. @default 0 */
  min?: number
  /** Largest allowed value. @default Number.POSITIVE_INFINITY */
  max?: number
}

/** A number (not NaN) within `bounds` (`a number from <min> to <max>`, or `a number ≥ <min>` without a max). */
export function numberRule(bounds: NumberBounds = {}): OptionRule<number> {
  const { min = 0, max = Number.POSITIVE_INFINITY } = bounds
  return {
    test: (v): v is number => typeof v === 'number' && !Number.isNaN(v) && v >= min && v <= max,
    must: max === Number.POSITIVE_INFINITY ? `a number ≥ ${min}` : `a number from ${min} to ${max}`,
  }
}

/** `fallback` when `value` is undefined, else a number within `bounds`, ERR_INVALID_OPTIONS otherwise. */
export function numberOption(
  value: unknown,
  name: string,
  fallback: number,
  bounds: NumberBounds = {},
): number {
  return checkOption(value, name, numberRule(bounds), fallback)
}

/** `true` or `false`. */
export const booleanRule: OptionRule<boolean> = {
  test: (v): v is boolean => typeof v === 'boolean',
  must: 'true or false',
}

/** `fallback` when `value` is undefined, `value` when it is a boolean, ERR_INVALID_OPTIONS otherwise. */
export function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  return checkOption(value, name, booleanRule, fallback)
}

/** A string of at least one character. */
export const nonEmptyStringRule: OptionRule<string> = {
  test: (v): v is string => typeof v === 'string' && v.length > 0,
  must: 'a non-empty string',
}

/** An object (not null), e.g. the options object itself. */
export const objectRule: OptionRule<object> = {
  test: (v): v is object => typeof v === 'object' && v !== null,
  must: 'an object',
}

/** A function. */
export const functionRule: OptionRule<(...args: never[]) => unknown> = {
  test: (v): v is (...args: never[]) => unknown => typeof v === 'function',
  must: 'a function',
}

/** One of `allowed` (`'a', 'b' or 'c'`: strings quoted). */
export function oneOfRule<const T extends readonly (string | number)[]>(allowed: T): OptionRule<T[number]> {
  const words = allowed.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)))
  return {
    test: (v): v is T[number] => (allowed as readonly unknown[]).includes(v),
    must: words.length > 1 ? `${words.slice(0, -1).join(', ')} or ${words.at(-1)}` : String(words[0]),
  }
}

/** `fallback` when `value` is undefined, `value` when it is one of `allowed`, ERR_INVALID_OPTIONS otherwise. */
export function oneOfOption<const T extends readonly (string | number)[]>(
  value: unknown,
  name: string,
  allowed: T,
  fallback: T[number],
): T[number] {
  return checkOption(value, name, oneOfRule(allowed), fallback)
}

/** How a URL option is checked by {@link urlRule}. */
export interface UrlRuleOptions {
  /** The schemes allowed, with their colon: `['mqtt:', 'mqtts:']`. */
  protocols: readonly string[]
  /** What to say it must be, e.g. `an mqtt:// or mqtts:// URL`. */
  must: string
  /** Refuse a URL without a host name. @default true */
  host?: boolean
}

/** An absolute URL string whose scheme is one of `protocols` (and, unless `host: false`, with a host). */
export function urlRule(options: UrlRuleOptions): OptionRule<string> {
  const { protocols, must, host = true } = options
  return {
    test: (v): v is string => {
      if (typeof v !== 'string') return false
      try {
        const url = new URL(v)
        return protocols.includes(url.protocol) && (!host || url.hostname !== '')
      } catch {
        return false
      }
    },
    must,
  }
}
