import { AlinkCodes } from '../alink/envelope.js'
import type { DataType } from './data-type.js'
import type { ValueRule, Violation } from './errors.js'

/** The code the platform answers when a value breaks its type's spec (docs/protocol.md §2.4). */
const TYPE_CODE: Readonly<Record<DataType['type'], number>> = {
  int: AlinkCodes.intSpec,
  float: AlinkCodes.floatSpec,
  double: AlinkCodes.doubleSpec,
  text: AlinkCodes.textSpec,
  date: AlinkCodes.dateSpec,
  bool: AlinkCodes.boolSpec,
  enum: AlinkCodes.enumSpec,
  struct: AlinkCodes.structSpec,
  // An array has no code of its own: "data does not satisfy the TSL".
  array: AlinkCodes.notTslData,
}

const UTC_MILLISECONDS = /^\d{1,16}$/

/**
 * Checks one value against its data type (docs/protocol.md §2.5, "value on the wire"):
 *
 * - `int`: a JSON integer within min–max; `float` and `double`: a finite number within min–max.
 *   A number written as a string is refused. `step` is a hint of the console, not a rule.
 * - `text`: a string of at most `length` bytes in UTF-8 (the unit of `length`, whose largest value
 *   is 10240 bytes).
 * - `date`: UTC milliseconds, a digit string as the wire carries it, or a non-negative integer.
 * - `bool`: the integer 0 or 1 (not `true` / `false`); `enum`: one of the declared integer keys.
 * - `struct`: an object with exactly the declared members; `array`: at most `size` items, each of
 *   the item type.
 */
export function checkValue(t: DataType, value: unknown): Violation | undefined {
  switch (t.type) {
    case 'int':
    case 'float':
    case 'double': {
      const whole = t.type === 'int'
      if (typeof value !== 'number' || !(whole ? Number.isInteger(value) : Number.isFinite(value)))
        return broke(t, 'type', whole ? 'an integer' : 'a finite number', value)
      if (value < t.min) return broke(t, 'min', t.min, value)
      return value > t.max ? broke(t, 'max', t.max, value) : undefined
    }
    case 'text': {
      if (typeof value !== 'string') return broke(t, 'type', 'a string', value)
      // A string of n UTF-16 units holds at most 3n bytes in UTF-8; only a long one is measured.
      if (value.length * 3 <= t.length) return undefined
      const bytes = Buffer.byteLength(value, 'utf8')
      return bytes > t.length ? broke(t, 'length', t.length, bytes) : undefined
    }
    case 'date':
      if (
        typeof value === 'string' &&
        UTC_MILLISECONDS.test(value) &&
        Number(value) <= Number.MAX_SAFE_INTEGER
      )
        return undefined
      if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return undefined
      return broke(t, 'type', 'UTC milliseconds as a digit string', value)
    case 'bool':
      if (value === 0 || value === 1) return undefined
      return Number.isInteger(value)
        ? broke(t, 'enum', [0, 1], value)
        : broke(t, 'type', 'the integer 0 or 1', value)
    case 'enum':
      if (!Number.isInteger(value)) return broke(t, 'type', 'an integer', value)
      return t.keys.has(value as number) ? undefined : broke(t, 'enum', [...t.keys], value)
    case 'struct':
      return checkStruct(t, value)
    case 'array': {
      if (!Array.isArray(value)) return broke(t, 'type', 'an array', value)
      if (value.length > t.size) return broke(t, 'size', t.size, value.length)
      for (let i = 0; i < value.length; i++) {
        const inner = checkValue(t.item, value[i])
        if (inner !== undefined) return { ...inner, path: `[${i}]${inner.path}` }
      }
      return undefined
    }
  }
}

function broke(t: DataType, rule: ValueRule, expected: unknown, actual: unknown, path = ''): Violation {
  return { path, rule, expected, actual, code: TYPE_CODE[t.type] }
}

function checkStruct(t: Extract<DataType, { type: 'struct' }>, value: unknown): Violation | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return broke(t, 'type', 'an object', value)
  const given = value as Record<string, unknown>
  let seen = 0
  for (const key in given) {
    if (!Object.hasOwn(given, key)) continue
    const member = t.members.get(key)
    if (member === undefined) return broke(t, 'member', [...t.members.keys()], key, `.${key}`)
    const inner = checkValue(member, given[key])
    if (inner !== undefined) return { ...inner, path: `.${key}${inner.path}` }
    seen++
  }
  if (seen === t.members.size) return undefined
  for (const name of t.members.keys()) {
    if (!Object.hasOwn(given, name)) return broke(t, 'required', name, undefined, `.${name}`)
  }
  return undefined
}
