import { TSL_ARRAY_MAX_SIZE, TSL_TEXT_MAX_LENGTH } from './codes.js'
import { checkIdentifier, invalidTsl } from './document-error.js'
import { DEFAULT_RANGES, isPlainObject, type TslMemberSpec, type TslSpec } from './spec.js'
import type { TslTypeName } from './types.js'

const TYPE_NAMES: ReadonlySet<string> = new Set<TslTypeName>([
  'int',
  'float',
  'double',
  'text',
  'date',
  'bool',
  'enum',
  'struct',
  'array',
])
// PROTOCOL §2.5: struct members may be int/float/double/text/date/bool/enum; array items
// int/float/double/text/struct.
const ITEM_TYPES: ReadonlySet<string> = new Set(['int', 'float', 'double', 'text', 'struct'])
const INTEGER_KEY = /^-?\d+$/

/** Where a dataType sits, which limits the types it may have. */
export type DataTypeContext = 'top' | 'member' | 'item'

/** Validates one TSL `dataType` at `path` and returns its compiled spec. */
export function parseDataType(raw: unknown, path: string, context: DataTypeContext): TslSpec {
  if (raw === undefined) throw invalidTsl(path, 'required', 'dataType is missing')
  if (!isPlainObject(raw)) throw invalidTsl(path, 'type', 'dataType must be an object')
  const type = raw.type
  if (typeof type !== 'string' || !TYPE_NAMES.has(type)) {
    throw invalidTsl(`${path}.type`, 'data-type', `unknown data type ${JSON.stringify(type)}`)
  }
  if (context === 'member' && (type === 'struct' || type === 'array')) {
    throw invalidTsl(`${path}.type`, 'nested', `a struct member cannot be a ${type}`)
  }
  if (context === 'item' && !ITEM_TYPES.has(type)) {
    throw invalidTsl(`${path}.type`, 'item-type', `an array item cannot be a ${type}`)
  }
  const specs = raw.specs
  const at = `${path}.specs`
  switch (type as TslTypeName) {
    case 'int':
    case 'float':
    case 'double':
      return parseNumberSpecs(type as 'int' | 'float' | 'double', specs, at)
    case 'text':
      return { type: 'text', length: parseLength(specs, at) }
    case 'date':
      return { type: 'date' }
    case 'bool':
      if (specs !== undefined) parseLabelKeys(specs, at, true)
      return { type: 'bool' }
    case 'enum':
      return { type: 'enum', values: parseLabelKeys(specs, at, false) }
    case 'struct':
      return { type: 'struct', members: parseMembers(specs, at) }
    case 'array':
      return parseArraySpecs(specs, at)
  }
}

function specsObject(specs: unknown, path: string): Record<string, unknown> {
  if (specs === undefined) throw invalidTsl(path, 'required', 'specs are missing')
  if (!isPlainObject(specs)) throw invalidTsl(path, 'type', 'specs must be an object')
  return specs
}

function parseNumber(value: unknown, path: string): number | undefined {
  // Absent and blank both mean "not given"; the platform writes numbers as strings (PROTOCOL §2.5).
  if (value === undefined || value === null || (typeof value === 'string' && value.trim() === ''))
    return undefined
  const n = typeof value === 'string' ? Number(value) : value
  if (typeof n !== 'number' || !Number.isFinite(n)) {
    throw invalidTsl(path, 'number', `${JSON.stringify(value)} is not a finite number`)
  }
  return n
}

function parseNumberSpecs(type: 'int' | 'float' | 'double', specs: unknown, path: string): TslSpec {
  const s = specs === undefined ? {} : specsObject(specs, path)
  const min = parseNumber(s.min, `${path}.min`) ?? DEFAULT_RANGES[type].min
  const max = parseNumber(s.max, `${path}.max`) ?? DEFAULT_RANGES[type].max
  if (min > max) throw invalidTsl(path, 'range', `min ${min} is greater than max ${max}`)
  const step = parseNumber(s.step, `${path}.step`)
  if (step !== undefined && step <= 0) throw invalidTsl(`${path}.step`, 'step', 'step must be greater than 0')
  const unit = typeof s.unit === 'string' && s.unit !== '' ? s.unit : undefined
  return { type, min, max, step, unit }
}

function parseLength(specs: unknown, path: string): number {
  if (specs === undefined) return TSL_TEXT_MAX_LENGTH
  const length = parseNumber(specsObject(specs, path).length, `${path}.length`) ?? TSL_TEXT_MAX_LENGTH
  if (!Number.isInteger(length) || length < 1 || length > TSL_TEXT_MAX_LENGTH) {
    throw invalidTsl(`${path}.length`, 'length', `length must be an integer from 1 to ${TSL_TEXT_MAX_LENGTH}`)
  }
  return length
}

function parseLabelKeys(specs: unknown, path: string, bool: boolean): number[] {
  const keys = Object.keys(specsObject(specs, path))
  if (!bool && keys.length === 0) throw invalidTsl(path, 'empty', 'an enum must declare at least one value')
  return keys.map((key) => {
    const n = Number(key)
    const ok = bool ? key === '0' || key === '1' : INTEGER_KEY.test(key) && Number.isSafeInteger(n)
    if (!ok)
      throw invalidTsl(`${path}.${key}`, 'enum-key', `key "${key}" must be ${bool ? '0 or 1' : 'an integer'}`)
    return n
  })
}

function parseMembers(specs: unknown, path: string): TslMemberSpec[] {
  if (specs === undefined) throw invalidTsl(path, 'required', 'struct members are missing')
  if (!Array.isArray(specs)) throw invalidTsl(path, 'type', 'struct specs must be an array of members')
  if (specs.length === 0) throw invalidTsl(path, 'empty', 'a struct must declare at least one member')
  const seen = new Set<string>()
  return specs.map((member: unknown, i) => {
    const at = `${path}[${i}]`
    if (!isPlainObject(member)) throw invalidTsl(at, 'type', 'a struct member must be an object')
    const identifier = checkIdentifier(member.identifier, `${at}.identifier`, seen)
    return { identifier, spec: parseDataType(member.dataType, `${at}.dataType`, 'member') }
  })
}

function parseArraySpecs(specs: unknown, path: string): TslSpec {
  const s = specsObject(specs, path)
  const size = parseNumber(s.size, `${path}.size`)
  if (size === undefined) throw invalidTsl(`${path}.size`, 'required', 'array size is missing')
  if (!Number.isInteger(size) || size < 1 || size > TSL_ARRAY_MAX_SIZE) {
    throw invalidTsl(`${path}.size`, 'size', `size must be an integer from 1 to ${TSL_ARRAY_MAX_SIZE}`)
  }
  return { type: 'array', size, item: parseDataType(s.item, `${path}.item`, 'item') }
}
