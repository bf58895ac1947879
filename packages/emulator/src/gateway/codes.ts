/**
 * Reply codes of the gateway operations (docs/protocol.md §2.4, §5; sub-device login codes from the
 * platform's "connect or disconnect sub-devices" page). 520 also answers any request a gateway
 * sends for a sub-device that is not logged in.
 */
export const GatewayCodes = {
  /** The request was handled. */
  success: 200,
  /** "400: request error"; the emulator answers it for a sub-device that is already activated. */
  alreadyActivated: 400,
  /** "401: request auth error (e.g. bad sign in topo add)"; also a registration by a device that is no gateway. */
  authError: 401,
  /** Too many sub-devices online under one gateway. */
  tooManyOnline: 428,
  /** Params missing, malformed or too many. */
  invalidParams: 460,
  /** "520: device has no active session (sub-device offline)". */
  noSession: 520,
  /** The sub-device was deleted. */
  deviceDeleted: 521,
  /** The sub-device is disabled. */
  deviceDisabled: 522,
  /** No such device. */
  deviceNotFound: 6100,
  /** A sub-device login whose signature does not verify. */
  invalidSign: 6287,
  /** The gateway's topology is full. */
  topoCountExceeded: 6400,
  /** The sub-device is not in the gateway's topology. */
  topoNotExist: 6401,
  /** A gateway cannot add itself as a sub-device. */
  topoSelf: 6402,
} as const

/** The message the platform sends with each gateway reply code. */
export const GATEWAY_MESSAGES: Readonly<Record<number, string>> = {
  401: 'request auth error',
  428: 'too many subdevices under gateway',
  460: 'request parameter error',
  520: 'device no session',
  521: 'device deleted',
  522: 'device forbidden',
  6100: 'device not found',
  6287: 'invalid sign',
  6400: 'topo count exceeded',
  6401: 'topo relation not exist',
  6402: 'topo relation cannot add by self',
}

/** Limits of the emulated platform; `emu.gateway.setLimits()` lowers them for tests. */
export interface GatewayLimits {
  /** Sub-devices in one gateway's topology (6400 beyond). @default 1500 */
  maxTopology: number
  /** Sub-devices logged in through one gateway at once (428 beyond). @default 1500 */
  maxOnline: number
}

export const DEFAULT_LIMITS: Readonly<GatewayLimits> = Object.freeze({ maxTopology: 1500, maxOnline: 1500 })

/** "A single batch request to bring sub-devices online or offline cannot contain more than 50 sub-devices." */
export const MAX_SESSION_BATCH = 50
/** Docs ("manage topological relationships"): "up to 30 sub-devices can be added at a time". */
export const MAX_TOPO_BATCH = 30
/** Gateway pack post: "200 properties, 20 events, 20 sub-devices per message" (docs/protocol.md §2.3). */
export const PACK_LIMITS = Object.freeze({ subDevices: 20, properties: 200, events: 20 })
