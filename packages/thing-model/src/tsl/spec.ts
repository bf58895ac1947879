/**
 * A compiled, normalized `dataType`: spec numbers parsed, defaults filled in. This is what values are
 * checked against; {@link ThingProperty.dataType} keeps the document's own form.
 */
export type TslSpec =
  | {
      /** A number type. */
      readonly type: 'int' | 'float' | 'double'
      /** Smallest value allowed. */
      readonly min: number
      /** Largest value allowed. */
      readonly max: number
      /** Parsed `step`; informative only (see `validate` docs), never enforced on values. */
      readonly step: number | undefined
      /** Unit symbol, informative. */
      readonly unit: string | undefined
    }
  | {
      /** A string. */
      readonly type: 'text'
      /** Most UTF-8 bytes. */
      readonly length: number
    }
  | {
      /** UTC milliseconds, as a digit string or a non-negative integer. */
      readonly type: 'date'
    }
  | {
      /** The integer 0 or 1. */
      readonly type: 'bool'
    }
  | {
      /** One of `values`. */
      readonly type: 'enum'
      /** The declared integer keys. */
      readonly values: readonly number[]
    }
  | {
      /** An object with exactly `members`. */
      readonly type: 'struct'
      /** The declared members. */
      readonly members: readonly TslMemberSpec[]
    }
  | {
      /** A list of `item`. */
      readonly type: 'array'
      /** Most items. */
      readonly size: number
      /** The spec of every item. */
      readonly item: TslSpec
    }

/** One struct member, compiled. */
export interface TslMemberSpec {
  /** The member's identifier. */
  readonly identifier: string
  /** The member's compiled spec. */
  readonly spec: TslSpec
}

/** Ranges used when a numeric type's `min` or `max` is absent. */
export const DEFAULT_RANGES = {
  int: { min: -2147483648, max: 2147483647 },
  float: { min: -3.4028234663852886e38, max: 3.4028234663852886e38 },
  double: { min: -Number.MAX_VALUE, max: Number.MAX_VALUE },
} as const

/** True for a JSON object (not null, not an array). */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
