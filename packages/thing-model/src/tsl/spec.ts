/**
 * A compiled, normalized `dataType`: spec numbers parsed, defaults filled in. This is what values are
 * checked against; {@link ThingProperty.dataType} keeps the document's own form.
 */
export type TslSpec =
  | {
      readonly type: 'int' | 'float' | 'double'
      readonly min: number
      readonly max: number
      /** Parsed `step`; informative only (see `validate` docs), never enforced on values. */
      readonly step: number | undefined
      readonly unit: string | undefined
    }
  | { readonly type: 'text'; readonly length: number }
  | { readonly type: 'date' }
  | { readonly type: 'bool' }
  | { readonly type: 'enum'; readonly values: readonly number[] }
  | { readonly type: 'struct'; readonly members: readonly TslMemberSpec[] }
  | { readonly type: 'array'; readonly size: number; readonly item: TslSpec }

/** One struct member, compiled. */
export interface TslMemberSpec {
  readonly identifier: string
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
