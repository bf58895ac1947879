/**
 * The one table of Alink reply codes (docs/protocol.md §2.4, §5): what a device answers cloud
 * requests with and what the cloud answers uplinks with. Every package names a code through this
 * table (or a table whose entries point into it), never as a bare number.
 */
export const WireCodes = {
  /** 200: the request was handled. */
  success: 200,
  /** 400: request error (on a device: something inside the device failed). */
  requestError: 400,
  /** 401: request authentication error (e.g. a bad signature in a topology add or a registration). */
  authError: 401,
  /** 428: too many sub-devices online under one gateway. */
  tooManyOnline: 428,
  /** 429: too many requests (throttled). */
  tooManyRequests: 429,
  /** 460: parameters empty, invalid or too many. */
  invalidParams: 460,
  /** 500: unknown platform error. */
  unknown: 500,
  /** 520: the device has no active session (a sub-device not logged in). */
  noSession: 520,
  /** 521: the sub-device was deleted. */
  deviceDeleted: 521,
  /** 522: the sub-device is disabled. */
  deviceForbidden: 522,
  /** 6100: device not found. */
  deviceNotFound: 6100,
  /** 6106: map size must be < 200 (too many properties). */
  tooManyProperties: 6106,
  /** 6204: device disabled. */
  deviceDisabled: 6204,
  /** 6207: data is not JSON / data format error. */
  notJson: 6207,
  /** 6250: product not found. */
  productNotFound: 6250,
  /** 6287: a sub-device login whose signature does not verify. */
  invalidSign: 6287,
  /** 6300: method missing or unknown (TSL check). */
  methodNotFound: 6300,
  /** 6301: params must be a JSON object or array. */
  paramsNotObject: 6301,
  /** 6304: params do not exist. */
  paramNotFound: 6304,
  /** 6305: params of the wrong type. */
  paramsType: 6305,
  /** 6306: a value breaks the spec of an `int`. */
  intSpec: 6306,
  /** 6307: a value breaks the spec of a `float`. */
  floatSpec: 6307,
  /** 6308: a value breaks the spec of a `bool`. */
  boolSpec: 6308,
  /** 6309: a value breaks the spec of an `enum`. */
  enumSpec: 6309,
  /** 6310: a value breaks the spec of a `text`. */
  textSpec: 6310,
  /** 6311: a value breaks the spec of a `date`. */
  dateSpec: 6311,
  /** 6312: a value breaks the spec of a `struct`. */
  structSpec: 6312,
  /** 6313: TSL service not available. */
  tslUnavailable: 6313,
  /** 6315: the data does not satisfy the TSL. */
  notTslData: 6315,
  /** 6320: the product has no such property. */
  propertyNotFound: 6320,
  /** 6322: a value breaks the spec of a `double`. */
  doubleSpec: 6322,
  /** 6400: the gateway's topology is full. */
  topoCountExceeded: 6400,
  /** 6401: the topology relation does not exist. */
  topoNotExist: 6401,
  /** 6402: a device cannot add itself as a sub-device. */
  topoSelf: 6402,
} as const

/** One of the reply codes of `WireCodes`. */
export type WireCode = (typeof WireCodes)[keyof typeof WireCodes]
