import { WireCodes } from '@linkkit/core'

/**
 * Reply codes of the gateway operations (docs/protocol.md §2.4, §5; sub-device login codes from the
 * platform's "connect or disconnect sub-devices" page). 520 also answers any request a gateway
 * sends for a sub-device that is not logged in.
 */
export const GatewayCodes = {
  /** The request was handled. */
  success: WireCodes.success,
  /** "400: request error"; the emulator answers it for a sub-device that is already activated. */
  alreadyActivated: WireCodes.requestError,
  /** "401: request auth error (e.g. bad sign in topo add)"; also a registration by a device that is no gateway. */
  authError: WireCodes.authError,
  /** Too many sub-devices online under one gateway. */
  tooManyOnline: WireCodes.tooManyOnline,
  /** Params missing, malformed or too many. */
  invalidParams: WireCodes.invalidParams,
  /** "520: device has no active session (sub-device offline)". */
  noSession: WireCodes.noSession,
  /** The sub-device was deleted. */
  deviceDeleted: WireCodes.deviceDeleted,
  /** The sub-device is disabled. */
  deviceDisabled: WireCodes.deviceForbidden,
  /** No such device. */
  deviceNotFound: WireCodes.deviceNotFound,
  /** A sub-device login whose signature does not verify. */
  invalidSign: WireCodes.invalidSign,
  /** The gateway's topology is full. */
  topoCountExceeded: WireCodes.topoCountExceeded,
  /** The sub-device is not in the gateway's topology. */
  topoNotExist: WireCodes.topoNotExist,
  /** A gateway cannot add itself as a sub-device. */
  topoSelf: WireCodes.topoSelf,
} as const

/** The message the platform sends with each gateway reply code. */
export const GATEWAY_MESSAGES: Readonly<Record<number, string>> = {
  [WireCodes.authError]: 'request auth error',
  [WireCodes.tooManyOnline]: 'too many subdevices under gateway',
  [WireCodes.invalidParams]: 'request parameter error',
  [WireCodes.noSession]: 'device no session',
  [WireCodes.deviceDeleted]: 'device deleted',
  [WireCodes.deviceForbidden]: 'device forbidden',
  [WireCodes.deviceNotFound]: 'device not found',
  [WireCodes.invalidSign]: 'invalid sign',
  [WireCodes.topoCountExceeded]: 'topo count exceeded',
  [WireCodes.topoNotExist]: 'topo relation not exist',
  [WireCodes.topoSelf]: 'topo relation cannot add by self',
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
