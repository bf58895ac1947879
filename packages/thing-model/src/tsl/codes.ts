/**
 * The platform's reply codes for thing-model checks (PROTOCOL §2.4). A device answers an invalid
 * property set with the code of the violated type; the emulator answers posts with them.
 */
export const TslPlatformCodes = {
  /** 6300: method missing or not in the TSL (unknown event or service). */
  methodNotExist: 6300,
  /** 6301: params must be a JSON object (or array for `get`). */
  paramsNotObject: 6301,
  /** 6304: param does not exist in the event or service (and read-only properties for `set`). */
  paramNotExist: 6304,
  /** 6305: params type error (e.g. a malformed `time` stamp). */
  typeError: 6305,
  /** 6306: int spec violated. */
  int: 6306,
  /** 6307: float spec violated. */
  float: 6307,
  /** 6308: bool spec violated. */
  bool: 6308,
  /** 6309: enum spec violated. */
  enum: 6309,
  /** 6310: text spec violated. */
  text: 6310,
  /** 6311: date spec violated. */
  date: 6311,
  /** 6312: struct spec violated. */
  struct: 6312,
  /** 6315: data does not satisfy the TSL; used for `array`, which has no code of its own. */
  array: 6315,
  /** 6320: no such property in the product. */
  propertyNotExist: 6320,
  /** 6322: double spec violated. */
  double: 6322,
} as const

/**
 * Why a value failed, in `details.rule` of `ERR_TSL_VALIDATION` / `ERR_TSL_UNKNOWN_IDENTIFIER`:
 * - `type`: wrong JSON type (a string for an int, `true` for a bool, NaN/Infinity, 1.5 for an int…)
 * - `min` / `max`: number outside the range
 * - `length`: text longer than its `length` (counted in UTF-8 bytes)
 * - `enum`: integer not among the declared keys (also bool values other than 0 and 1)
 * - `size`: array longer than its `size`
 * - `member`: struct has a member it does not declare
 * - `required`: struct lacks a declared member
 * - `readonly`: a property set names an `accessMode: "r"` property
 * - `time`: the `time` of a `{ value, time }` sample is not a non-negative integer of ms
 * - `unknown`: the identifier (property, param, event or service) is not in the model
 */
export type TslRule =
  | 'type'
  | 'min'
  | 'max'
  | 'length'
  | 'enum'
  | 'size'
  | 'member'
  | 'required'
  | 'readonly'
  | 'time'
  | 'unknown'

/**
 * Why a TSL document was refused, in `details.rule` of `ERR_TSL_INVALID`:
 * - `read` / `json`: the file could not be read or is not JSON
 * - `type`: a field has the wrong JSON type (e.g. `properties` not an array)
 * - `required`: a required field is missing (identifier, dataType, accessMode, specs…)
 * - `identifier`: an identifier is not letters, digits and `_` (optionally `module:` prefixed)
 * - `unique`: an identifier repeats within its list
 * - `data-type`: unknown `dataType.type`
 * - `value`: a field outside its allowed values (accessMode, event type, callType)
 * - `number`: a numeric spec is not a finite number
 * - `range`: `min` > `max`
 * - `step`: `step` ≤ 0
 * - `length`: text `length` not an integer in 1–10240
 * - `enum-key`: an enum/bool key is not an integer (bool: not 0 or 1)
 * - `empty`: an enum or struct declares nothing
 * - `nested`: a struct member is a struct or array
 * - `size`: array `size` not an integer in 1–512
 * - `item-type`: array item type not int, float, double, text or struct
 */
export type TslDocumentRule =
  | 'read'
  | 'json'
  | 'type'
  | 'required'
  | 'identifier'
  | 'unique'
  | 'data-type'
  | 'value'
  | 'number'
  | 'range'
  | 'step'
  | 'length'
  | 'enum-key'
  | 'empty'
  | 'nested'
  | 'size'
  | 'item-type'

/** Longest `text` the platform allows (PROTOCOL §2.5). */
export const TSL_TEXT_MAX_LENGTH = 10240
/** Array size bounds (PROTOCOL §2.5). */
export const TSL_ARRAY_MAX_SIZE = 512
