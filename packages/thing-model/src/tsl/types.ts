/**
 * A number inside TSL `specs`. The platform writes every one as a string (`"min": "0"`); numbers are
 * accepted too so hand-written models read naturally.
 */
export type TslNumeric = string | number

/** The data types a TSL `dataType.type` may name (PROTOCOL §2.5). */
export type TslTypeName = 'int' | 'float' | 'double' | 'text' | 'date' | 'bool' | 'enum' | 'struct' | 'array'

/** Specs of `int`, `float` and `double`. */
export interface TslNumberSpecs {
  /** Smallest accepted value. Default: the type's own limit (int32, float32, double). */
  min?: TslNumeric
  /** Largest accepted value. Default: the type's own limit. */
  max?: TslNumeric
  /** Increment the console offers; a UI hint, not enforced on values. Must be > 0 when given. */
  step?: TslNumeric
  unit?: string
  unitName?: string
}

/** Specs of `text`. */
export interface TslTextSpecs {
  /** Longest accepted string in characters, 1–10240. @default "10240" */
  length?: TslNumeric
}

/** Labels of `bool` (`"0"`, `"1"`) or `enum` (integer keys) values. */
export type TslLabelSpecs = Readonly<Record<string, string>>

/** One member of a `struct`, or one input/output parameter of an event or service. */
export interface TslParam {
  identifier: string
  name?: string
  dataType: TslDataType
}

/** Specs of `array`: the largest size (1–512) and the type of every item. */
export interface TslArraySpecs {
  size: TslNumeric
  /** `int`, `float`, `double`, `text` or `struct` (PROTOCOL §2.5). */
  item: TslDataType
}

/** A TSL `dataType`: the type name and its `specs`. */
export type TslDataType =
  | { type: 'int' | 'float' | 'double'; specs?: TslNumberSpecs }
  | { type: 'text'; specs?: TslTextSpecs }
  | { type: 'date'; specs?: Readonly<Record<string, never>> | readonly never[] }
  | { type: 'bool'; specs?: TslLabelSpecs }
  | { type: 'enum'; specs: TslLabelSpecs }
  | { type: 'struct'; specs: readonly TslParam[] }
  | { type: 'array'; specs: TslArraySpecs }

/** `rw`: the cloud may set it; `r`: the device only reports it. */
export type TslAccessMode = 'rw' | 'r'

/** A property definition. */
export interface TslProperty {
  identifier: string
  name?: string
  accessMode: TslAccessMode
  required?: boolean
  desc?: string
  dataType: TslDataType
}

/** An event definition; `outputData` lists the parameters the device posts. */
export interface TslEvent {
  identifier: string
  name?: string
  /** @default "info" */
  type?: 'info' | 'alert' | 'error'
  required?: boolean
  desc?: string
  method?: string
  outputData?: readonly TslParam[]
}

/** How the cloud invokes a service: `async` on `thing/service/<id>`, `sync` over RRPC. */
export type TslCallType = 'async' | 'sync'

/** A service definition. */
export interface TslService {
  identifier: string
  name?: string
  /** @default "async" */
  callType?: TslCallType
  required?: boolean
  desc?: string
  method?: string
  /** Parameters the cloud sends. The built-in `get` lists identifier strings instead. */
  inputData?: readonly TslParam[] | readonly string[]
  /** Parameters the device answers with. */
  outputData?: readonly TslParam[]
}

/**
 * A thing model document as the platform exports it (PROTOCOL §2.5). The built-ins (service `set`,
 * service `get`, event `post`) may be present or absent; they are always derived from `properties`.
 */
export interface TslDocument {
  schema?: string
  profile?: { productKey?: string; [key: string]: unknown }
  properties?: readonly TslProperty[]
  events?: readonly TslEvent[]
  services?: readonly TslService[]
}
