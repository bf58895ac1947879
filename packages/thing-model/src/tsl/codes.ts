import { WireCodes } from '@linkkit/core'

/**
 * The platform's reply codes for thing-model checks (PROTOCOL §2.4). A device answers an invalid
 * property set with the code of the violated type; the emulator answers posts with them.
 */
export const TslPlatformCodes = {
  /** 6300: method missing or not in the TSL (unknown event or service). */
  methodNotExist: WireCodes.methodNotFound,
  /** 6301: params must be a JSON object (or array for `get`). */
  paramsNotObject: WireCodes.paramsNotObject,
  /** 6304: param does not exist in the event or service (and read-only properties for `set`). */
  paramNotExist: WireCodes.paramNotFound,
  /** 6305: params type error (e.g. a malformed `time` stamp). */
  typeError: WireCodes.paramsType,
  /** 6306: int spec violated. */
  int: WireCodes.intSpec,
  /** 6307: float spec violated. */
  float: WireCodes.floatSpec,
  /** 6308: bool spec violated. */
  bool: WireCodes.boolSpec,
  /** 6309: enum spec violated. */
  enum: WireCodes.enumSpec,
  /** 6310: text spec violated. */
  text: WireCodes.textSpec,
  /** 6311: date spec violated. */
  date: WireCodes.dateSpec,
  /** 6312: struct spec violated. */
  struct: WireCodes.structSpec,
  /** 6315: data does not satisfy the TSL; used for `array`, which has no code of its own. */
  array: WireCodes.notTslData,
  /** 6320: no such property in the product. */
  propertyNotExist: WireCodes.propertyNotFound,
  /** 6322: double spec violated. */
  double: WireCodes.doubleSpec,
} as const

export type { TslDocumentRule, TslRule } from '@linkkit/core'

/** Longest `text` the platform allows (PROTOCOL §2.5). */
export const TSL_TEXT_MAX_LENGTH = 10240
/** Array size bounds (PROTOCOL §2.5). */
export const TSL_ARRAY_MAX_SIZE = 512
