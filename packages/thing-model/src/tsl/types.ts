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
  /** Unit symbol, e.g. `%`. */
  unit?: string
  /** Unit name, e.g. `percent`. */
  unitName?: string
}

/** Specs of `text`. */
export interface TslTextSpecs {
  /** Longest accepted string in UTF-8 bytes, 1–10240. @default "10240" */
  length?: TslNumeric
}

/** Labels of `bool` (`"0"`, `"1"`) or `enum` (integer keys) values. */
export type TslLabelSpecs = Readonly<Record<string, string>>

/** One member of a `struct`, or one input/output parameter of an event or service. */
export interface TslParam {
  /** Letters, digits and `_`. */
  identifier: string
  /** Display name. */
  name?: string
  /** Its data type. */
  dataType: TslDataType
}

/** Specs of `array`: the largest size (1–512) and the type of every item. */
export interface TslArraySpecs {
  /** Most items, 1–512. */
  size: TslNumeric
  /** `int`, `float`, `double`, `text` or `struct` (PROTOCOL §2.5). */
  item: TslDataType
}

/** A TSL `dataType`: the type name and its `specs`. */
export type TslDataType =
  | {
      /** A number type. */
      type: 'int' | 'float' | 'double'
      /** Range, step and unit, numbers written as strings. */
      specs?: TslNumberSpecs
    }
  | {
      /** A string. */
      type: 'text'
      /** Its `length`. */
      specs?: TslTextSpecs
    }
  | {
      /** UTC milliseconds as a string. */
      type: 'date'
      /** Empty. */
      specs?: Readonly<Record<string, never>> | readonly never[]
    }
  | {
      /** 0 or 1. */
      type: 'bool'
      /** Labels of 0 and 1. */
      specs?: TslLabelSpecs
    }
  | {
      /** One of the declared integer keys. */
      type: 'enum'
      /** Key → label. */
      specs: TslLabelSpecs
    }
  | {
      /** An object of declared members. */
      type: 'struct'
      /** The members. */
      specs: readonly TslParam[]
    }
  | {
      /** A list. */
      type: 'array'
      /** Size and item type. */
      specs: TslArraySpecs
    }

/** `rw`: the cloud may set it; `r`: the device only reports it. */
export type TslAccessMode = 'rw' | 'r'

/** A property definition. */
export interface TslProperty {
  /** Letters, digits and `_`, optionally `module:` prefixed. */
  identifier: string
  /** Display name. */
  name?: string
  /** `rw` or `r`. */
  accessMode: TslAccessMode
  /** Whether the product requires it. */
  required?: boolean
  /** Description. */
  desc?: string
  /** Its data type. */
  dataType: TslDataType
}

/** An event definition; `outputData` lists the parameters the device posts. */
export interface TslEvent {
  /** Letters, digits and `_`. */
  identifier: string
  /** Display name. */
  name?: string
  /** @default "info" */
  type?: 'info' | 'alert' | 'error'
  /** Whether the product requires it. */
  required?: boolean
  /** Description. */
  desc?: string
  /** `thing.event.<identifier>.post`. */
  method?: string
  /** The event's output params. */
  outputData?: readonly TslParam[]
}

/** How the cloud invokes a service: `async` on `thing/service/<id>`, `sync` over RRPC. */
export type TslCallType = 'async' | 'sync'

/** A service definition. */
export interface TslService {
  /** Letters, digits and `_`. */
  identifier: string
  /** Display name. */
  name?: string
  /** @default "async" */
  callType?: TslCallType
  /** Whether the product requires it. */
  required?: boolean
  /** Description. */
  desc?: string
  /** `thing.service.<identifier>`. */
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
  /** The TSL schema URL. */
  schema?: string
  /** The product the model belongs to. */
  profile?: {
    /** The product key. */
    productKey?: string
    [key: string]: unknown
  }
  /** The product's properties. */
  properties?: readonly TslProperty[]
  /** Its events (the built-in `post` may be left out). */
  events?: readonly TslEvent[]
  /** Its services (the built-ins `set` and `get` may be left out). */
  services?: readonly TslService[]
}
