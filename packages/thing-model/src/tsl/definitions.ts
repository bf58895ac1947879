import type { TslSpec } from './spec.js'
import type { TslAccessMode, TslCallType, TslDataType } from './types.js'

/** An event output or service input/output parameter, as loaded. */
export interface ThingParam {
  readonly identifier: string
  readonly name: string | undefined
  /** The `dataType` as the document wrote it. */
  readonly dataType: TslDataType
  /** The compiled, normalized form values are checked against. */
  readonly spec: TslSpec
}

/** A property, as loaded. */
export interface ThingProperty extends ThingParam {
  readonly accessMode: TslAccessMode
  readonly required: boolean
}

/** An event, as loaded. The built-in `post` (the property post) has every property as output. */
export interface ThingEvent {
  readonly identifier: string
  readonly name: string | undefined
  readonly type: 'info' | 'alert' | 'error'
  /** Alink method: `thing.event.<id>.post`, or `thing.event.property.post` for `post`. */
  readonly method: string
  readonly outputData: readonly ThingParam[]
  /** True for `post`, which is derived from the properties. */
  readonly builtIn: boolean
}

/**
 * A service, as loaded. The built-ins: `set` (input = writable properties) and `get` (input = a
 * list of property identifiers, output = the properties).
 */
export interface ThingService {
  readonly identifier: string
  readonly name: string | undefined
  readonly callType: TslCallType
  /** Alink method: `thing.service.<id>`, or `thing.service.property.set` / `.get`. */
  readonly method: string
  readonly inputData: readonly ThingParam[]
  readonly outputData: readonly ThingParam[]
  /** True for `set` and `get`, which are derived from the properties. */
  readonly builtIn: boolean
}

/** A checked document before compilation; built-ins not included. */
export interface ParsedDocument {
  readonly productKey: string | undefined
  readonly properties: readonly ThingProperty[]
  readonly events: readonly ThingEvent[]
  readonly services: readonly ThingService[]
}
