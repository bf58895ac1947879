import type { LinkkitError } from '@linkkit/core'
import { TslPlatformCodes } from './codes.js'
import { compile } from './compile.js'
import type { ParsedDocument, ThingEvent, ThingParam, ThingProperty, ThingService } from './definitions.js'
import { type ParamEntry, type ScanMode, scanParams } from './params.js'
import { BUILT_IN_EVENT } from './parse-document.js'
import { ruleError, unknownIdentifier } from './validation-error.js'

/** Scans params: first failure without `errors`, every failure with it (see `scanParams`). */
export type Scan = (
  params: unknown,
  errors?: LinkkitError[],
  valid?: Record<string, unknown>,
) => LinkkitError | undefined

export interface CompiledEvent {
  readonly def: ThingEvent
  readonly scan: Scan
  /** Whether `{ value: {...}, time }` params are unwrapped (false when an output is named `value`). */
  readonly wrapped: boolean
}

export interface CompiledService {
  readonly def: ThingService
  readonly input: Scan
  readonly output: Scan
}

/** Every feature of a model with its validators compiled, built-ins included. */
export interface Features {
  readonly properties: ReadonlyMap<string, ThingProperty>
  readonly post: Scan
  readonly set: Scan
  readonly events: ReadonlyMap<string, CompiledEvent>
  readonly services: ReadonlyMap<string, CompiledService>
}

const mode = (unknownCode: number, writableOnly: boolean, samples: boolean): ScanMode =>
  Object.freeze({ unknownCode, writableOnly, samples })
const POST = mode(TslPlatformCodes.propertyNotExist, false, true)
const SET = mode(TslPlatformCodes.propertyNotExist, true, false)
const PLAIN = mode(TslPlatformCodes.propertyNotExist, false, false)
const PARAMS = mode(TslPlatformCodes.paramNotExist, false, false)

function compileTable(
  params: readonly ThingParam[],
  writable: (p: ThingParam) => boolean,
): ReadonlyMap<string, ParamEntry> {
  return new Map(
    params.map((p) => {
      const { spec } = p
      const sampleable = spec.type !== 'struct' || !spec.members.some((m) => m.identifier === 'value')
      return [p.identifier, { check: compile(spec), writable: writable(p), sampleable }]
    }),
  )
}

const scanner =
  (table: ReadonlyMap<string, ParamEntry>, m: ScanMode): Scan =>
  (params, errors, valid) =>
    scanParams(table, params, m, errors, valid)

function identifierScan(properties: ReadonlyMap<string, ThingProperty>): Scan {
  return (ids, errors, valid) => {
    if (!Array.isArray(ids)) {
      const error = ruleError(
        '',
        'type',
        'array of property identifiers',
        ids,
        TslPlatformCodes.paramsNotObject,
      )
      errors?.push(error)
      return error
    }
    for (const id of ids) {
      if (typeof id === 'string' && properties.has(id)) {
        if (valid !== undefined) valid[id] = true
        continue
      }
      const error = unknownIdentifier(String(id), TslPlatformCodes.propertyNotExist)
      if (errors === undefined) return error
      errors.push(error)
    }
    return errors?.[0]
  }
}

/** Compiles every dataType of the document once and adds the built-ins (PROTOCOL §2.5). */
export function compileFeatures(parsed: ParsedDocument): Features {
  const properties = new Map(parsed.properties.map((p) => [p.identifier, p]))
  const isWritable = (p: ThingParam): boolean => properties.get(p.identifier)?.accessMode === 'rw'
  const table = compileTable(parsed.properties, isWritable)
  const post = scanner(table, POST)
  const set = scanner(table, SET)
  const all = parsed.properties
  const anyParam = (): boolean => true

  const events = new Map<string, CompiledEvent>()
  const postDef: ThingEvent = {
    identifier: BUILT_IN_EVENT,
    name: undefined,
    type: 'info',
    method: 'thing.event.property.post',
    outputData: all,
    builtIn: true,
  }
  events.set(BUILT_IN_EVENT, { def: postDef, scan: post, wrapped: false })
  for (const def of parsed.events) {
    const wrapped = !def.outputData.some((p) => p.identifier === 'value')
    events.set(def.identifier, {
      def,
      scan: scanner(compileTable(def.outputData, anyParam), PARAMS),
      wrapped,
    })
  }

  const services = new Map<string, CompiledService>()
  const builtIn = { name: undefined, callType: 'async', builtIn: true } as const
  services.set('set', {
    def: {
      ...builtIn,
      identifier: 'set',
      method: 'thing.service.property.set',
      inputData: all.filter(isWritable),
      outputData: [],
    },
    input: set,
    output: scanner(new Map(), PARAMS),
  })
  services.set('get', {
    def: {
      ...builtIn,
      identifier: 'get',
      method: 'thing.service.property.get',
      inputData: [],
      outputData: all,
    },
    input: identifierScan(properties),
    output: scanner(table, PLAIN),
  })
  for (const def of parsed.services) {
    const input = scanner(compileTable(def.inputData, anyParam), PARAMS)
    services.set(def.identifier, {
      def,
      input,
      output: scanner(compileTable(def.outputData, anyParam), PARAMS),
    })
  }
  return { properties, post, set, events, services }
}
