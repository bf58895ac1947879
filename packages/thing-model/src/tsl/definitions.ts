import type { TslSpec } from './spec.js'
import type { TslAccessMode, TslCallType, TslDataType } from './types.js'

/** An event output or service input/output parameter, as loaded. */
export interface ThingParam {
  /** The param's identifier. */
  readonly identifier: string
  /** Display name. */
  readonly name: string | undefined
  /** The `dataType` as the document wrote it. */
  readonly dataType: TslDataType
  /** The compiled, normalized form values are checked against. */
  readonly spec: TslSpec
}

/** A property, as loaded. */
export interface ThingProperty extends ThingParam {
  /** `rw` (the cloud may set it) or `r`. */
  readonly accessMode: TslAccessMode
  /** Whether the product requires it. */
  readonly required: boolean
}

/** An event, as loaded. The built-in `post` (the property post) has every property as output. */
export interface ThingEvent {
  /** The event's identifier. */
  readonly identifier: string
  /** Display name. */
  readonly name: string | undefined
  /** Severity. */
  readonly type: 'info' | 'alert' | 'error'
  /** Alink method: `thing.event.<id>.post`, or `thing.event.property.post` for `post`. */
  readonly method: string
  /** The event's output params. */
  readonly outputData: readonly ThingParam[]
  /** True for `post`, which is derived from the properties. */
  readonly builtIn: boolean
}

/**
 * A service, as loaded. The built-ins: `set` (input = writable properties) and `get` (input = a
 * list of property identifiers, output = the properties).
 */
export interface ThingService {
  /** The service's identifier. */
  readonly identifier: string
  /** Display name. */
  readonly name: string | undefined
  /** `async` or `sync` (RRPC). */
  readonly callType: TslCallType
  /** Alink method: `thing.service.<id>`, or `thing.service.property.set` / `.get`. */
  readonly method: string
  /** Its input params. */
  readonly inputData: readonly ThingParam[]
  /** Its output params. */
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
