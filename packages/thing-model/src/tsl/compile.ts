import { TslPlatformCodes, type TslRule } from './codes.js'
import { isPlainObject, type TslSpec } from './spec.js'

/**
 * One failed check. `path` is relative to the checked value (`""`, `".Red"`, `"[3].Hour"`) and is
 * prefixed on the way out of structs and arrays; nothing is allocated while values pass.
 */
export interface Issue {
  path: string
  rule: TslRule
  expected: unknown
  actual: unknown
  platformCode: number
}

/** A compiled validator: `undefined` when the value satisfies its spec. */
export type Check = (value: unknown) => Issue | undefined

const issue = (rule: TslRule, expected: unknown, actual: unknown, platformCode: number): Issue => ({
  path: '',
  rule,
  expected,
  actual,
  platformCode,
})

const DIGITS = /^\d{1,16}$/

/** Compiles a spec into its validator once; the closure does no parsing per value. */
export function compile(spec: TslSpec): Check {
  switch (spec.type) {
    case 'int':
    case 'float':
    case 'double': {
      const { min, max, type } = spec
      const code = TslPlatformCodes[type]
      const isInt = type === 'int'
      return (v) => {
        if (typeof v !== 'number' || !(isInt ? Number.isInteger(v) : Number.isFinite(v))) {
          return issue('type', isInt ? 'integer' : 'finite number', v, code)
        }
        if (v < min) return issue('min', min, v, code)
        if (v > max) return issue('max', max, v, code)
        return undefined
      }
    }
    case 'text': {
      // The platform gives a text's `length` in UTF-8 bytes (up to 10240, docs/protocol.md §2.5):
      // three Chinese characters fill a length of 9, one emoji 4.
      const { length } = spec
      return (v) => {
        if (typeof v !== 'string') return issue('type', 'string', v, TslPlatformCodes.text)
        const n = Buffer.byteLength(v, 'utf8')
        return n > length ? issue('length', length, n, TslPlatformCodes.text) : undefined
      }
    }
    case 'date':
      return (v) =>
        (typeof v === 'string' && DIGITS.test(v) && Number(v) <= Number.MAX_SAFE_INTEGER) ||
        (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0)
          ? undefined
          : issue('type', 'string of UTC milliseconds', v, TslPlatformCodes.date)
    case 'bool':
      return (v) => {
        if (v === 0 || v === 1) return undefined
        const integer = typeof v === 'number' && Number.isInteger(v)
        return issue(integer ? 'enum' : 'type', integer ? [0, 1] : '0 or 1', v, TslPlatformCodes.bool)
      }
    case 'enum': {
      const values = new Set(spec.values)
      return (v) => {
        if (typeof v !== 'number' || !Number.isInteger(v))
          return issue('type', 'integer', v, TslPlatformCodes.enum)
        return values.has(v) ? undefined : issue('enum', spec.values, v, TslPlatformCodes.enum)
      }
    }
    case 'struct':
      return compileStruct(spec.members)
    case 'array':
      return compileArray(spec.size, compile(spec.item))
  }
}

function prefix(found: Issue, segment: string): Issue {
  found.path = segment + found.path
  return found
}

function compileStruct(members: readonly { identifier: string; spec: TslSpec }[]): Check {
  const checks = new Map(members.map((m) => [m.identifier, compile(m.spec)]))
  const names = members.map((m) => m.identifier)
  const code = TslPlatformCodes.struct
  return (v) => {
    if (!isPlainObject(v)) return issue('type', 'object', v, code)
    let seen = 0
    for (const key in v) {
      if (!Object.hasOwn(v, key)) continue
      const check = checks.get(key)
      if (check === undefined) return prefix(issue('member', names, key, code), `.${key}`)
      const found = check(v[key])
      if (found !== undefined) return prefix(found, `.${key}`)
      seen++
    }
    if (seen === names.length) return undefined
    const missing = names.find((name) => !Object.hasOwn(v, name))
    return prefix(issue('required', missing, undefined, code), `.${missing}`)
  }
}

function compileArray(size: number, item: Check): Check {
  const code = TslPlatformCodes.array
  return (v) => {
    if (!Array.isArray(v)) return issue('type', 'array', v, code)
    if (v.length > size) return issue('size', size, v.length, code)
    for (let i = 0; i < v.length; i++) {
      const found = item(v[i])
      if (found !== undefined) return prefix(found, `[${i}]`)
    }
    return undefined
  }
}
