import { type DocumentRule, documentError } from './errors.js'

/**
 * A `dataType` of a TSL document, read (docs/protocol.md §2.5): the numbers of its `specs`, which
 * the platform writes as strings, are numbers here, and absent bounds have their defaults.
 */
export type DataType =
  | { readonly type: 'int' | 'float' | 'double'; readonly min: number; readonly max: number }
  /** `length` counts UTF-8 bytes. */
  | { readonly type: 'text'; readonly length: number }
  | { readonly type: 'date' }
  | { readonly type: 'bool' }
  | { readonly type: 'enum'; readonly keys: ReadonlySet<number> }
  | { readonly type: 'struct'; readonly members: ReadonlyMap<string, DataType> }
  | { readonly type: 'array'; readonly size: number; readonly item: DataType }

/** Where a dataType sits: struct members and array items may not have every type (§2.5). */
type Place = 'top' | 'member' | 'item'

/** The longest `text` a product may declare, and the bounds of an array's `size` (§2.5). */
export const TEXT_MAX_BYTES = 10_240
export const ARRAY_MAX_SIZE = 512

// `int` is int32 on the platform ("int32" in the docs); float and double span their IEEE types.
const RANGES = {
  int: [-(2 ** 31), 2 ** 31 - 1],
  float: [-3.4028234663852886e38, 3.4028234663852886e38],
  double: [-Number.MAX_VALUE, Number.MAX_VALUE],
} as const

const TYPES = ['int', 'float', 'double', 'text', 'date', 'bool', 'enum', 'struct', 'array']
const ITEM_TYPES = ['int', 'float', 'double', 'text', 'struct']
// Without the `u` flag, \w is ASCII letters, digits and `_`.
const IDENTIFIER = /^(?:\w+:)?\w+$/

function fail(at: string, rule: DocumentRule, message: string): never {
  throw documentError(at, rule, message)
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * An `identifier`: letters, digits and `_`, optionally behind a custom module's `module:` prefix
 * (§2.5). Identifiers end up in topics, so nothing else is allowed; each is new in `seen`.
 */
export function readIdentifier(value: unknown, at: string, seen: Set<string>): string {
  if (value === undefined) fail(at, 'required', 'identifier is missing')
  if (typeof value !== 'string') fail(at, 'type', 'identifier must be a string')
  if (!IDENTIFIER.test(value)) fail(at, 'identifier', `${JSON.stringify(value)} is not letters, digits and _`)
  if (seen.has(value)) fail(at, 'unique', `"${value}" is declared twice`)
  seen.add(value)
  return value
}

/** A spec number: a string (as the platform writes them) or a number; blank or absent is undefined. */
function specNumber(value: unknown, at: string): number | undefined {
  if (value === undefined || value === null) return undefined
  if (typeof value === 'string' && value.trim() === '') return undefined
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n))
    fail(at, 'number', `${JSON.stringify(value)} is not a number`)
  return n
}

function specsObject(specs: unknown, at: string): Record<string, unknown> {
  if (specs === undefined) fail(at, 'required', 'specs are missing')
  if (!isObject(specs)) fail(at, 'type', 'specs must be an object')
  return specs
}

/** Reads the `dataType` at `at`; throws ERR_TSL_INVALID naming the path and the rule it breaks. */
export function readDataType(raw: unknown, at: string, place: Place = 'top'): DataType {
  if (raw === undefined) fail(at, 'required', 'dataType is missing')
  if (!isObject(raw)) fail(at, 'type', 'dataType must be an object')
  const { type, specs } = raw
  const s = `${at}.specs`
  if (place === 'member' && (type === 'struct' || type === 'array'))
    fail(`${at}.type`, 'nested', `a struct member cannot be a ${type}`)
  if (place === 'item' && typeof type === 'string' && TYPES.includes(type) && !ITEM_TYPES.includes(type))
    fail(`${at}.type`, 'item-type', `an array item cannot be a ${type}`)
  switch (type) {
    case 'int':
    case 'float':
    case 'double': {
      const given = specs === undefined ? {} : specsObject(specs, s)
      const min = specNumber(given.min, `${s}.min`) ?? RANGES[type][0]
      const max = specNumber(given.max, `${s}.max`) ?? RANGES[type][1]
      if (min > max) fail(s, 'range', `min ${min} exceeds max ${max}`)
      const step = specNumber(given.step, `${s}.step`)
      if (step !== undefined && step <= 0) fail(`${s}.step`, 'step', 'step must be above 0')
      return { type, min, max }
    }
    case 'text': {
      const length = specs === undefined ? undefined : specNumber(specsObject(specs, s).length, `${s}.length`)
      if (length !== undefined && !(Number.isInteger(length) && length >= 1 && length <= TEXT_MAX_BYTES))
        fail(`${s}.length`, 'length', `length must be a whole number of bytes, 1 to ${TEXT_MAX_BYTES}`)
      return { type, length: length ?? TEXT_MAX_BYTES }
    }
    case 'date':
      return { type }
    case 'bool':
      if (specs !== undefined) labelKeys(specs, s, true)
      return { type }
    case 'enum':
      return { type, keys: new Set(labelKeys(specs, s, false)) }
    case 'struct':
      return { type, members: structMembers(specs, s) }
    case 'array':
      return arrayType(specs, s)
    default:
      fail(`${at}.type`, 'data-type', `${JSON.stringify(type)} is not a TSL data type`)
  }
}

/** The keys of bool (`"0"`, `"1"`) or enum (integers) labels. */
function labelKeys(specs: unknown, at: string, bool: boolean): number[] {
  const keys = Object.keys(specsObject(specs, at))
  if (!bool && keys.length === 0) fail(at, 'empty', 'an enum needs at least one value')
  return keys.map((key) => {
    const n = Number(key)
    const fits = bool ? key === '0' || key === '1' : /^-?\d+$/.test(key) && Number.isSafeInteger(n)
    if (!fits) fail(`${at}.${key}`, 'enum-key', `"${key}" is not ${bool ? '0 or 1' : 'an integer'}`)
    return n
  })
}

function structMembers(specs: unknown, at: string): Map<string, DataType> {
  if (specs === undefined) fail(at, 'required', 'a struct needs its members')
  if (!Array.isArray(specs)) fail(at, 'type', 'struct specs must be an array of members')
  if (specs.length === 0) fail(at, 'empty', 'a struct needs at least one member')
  const members = new Map<string, DataType>()
  specs.forEach((member: unknown, i) => {
    const m = `${at}[${i}]`
    if (!isObject(member)) fail(m, 'type', 'a struct member must be an object')
    const id = readIdentifier(member.identifier, `${m}.identifier`, new Set(members.keys()))
    members.set(id, readDataType(member.dataType, `${m}.dataType`, 'member'))
  })
  return members
}

function arrayType(specs: unknown, at: string): DataType {
  const given = specsObject(specs, at)
  const size = specNumber(given.size, `${at}.size`)
  if (size === undefined) fail(`${at}.size`, 'required', 'an array needs its size')
  if (!(Number.isInteger(size) && size >= 1 && size <= ARRAY_MAX_SIZE))
    fail(`${at}.size`, 'size', `size must be a whole number, 1 to ${ARRAY_MAX_SIZE}`)
  return { type: 'array', size, item: readDataType(given.item, `${at}.item`, 'item') }
}
