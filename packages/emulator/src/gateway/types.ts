import type { Logger } from 'pino'
import type { Answer } from '../alink/envelope.js'
import type { DeviceRegistry } from '../registry.js'
import type { DeviceIdentity, UplinkContext } from '../types.js'
import type { GatewayLimits } from './codes.js'
import type { GatewayAcl } from './gateway-acl.js'
import type { SubSessions } from './sub-sessions.js'

/** A gateway's topology as the platform stores it; `EmulatorOptions.topology` seeds it at start. */
export interface TopologyRecord {
  /** The gateway. */
  gateway: DeviceIdentity
  /** The sub-devices in its topology. */
  subDevices: readonly DeviceIdentity[]
}

/** One gateway request on the gateway's own topics, already read from its envelope. */
export interface GatewayRequest {
  gateway: DeviceIdentity
  topic: string
  params: unknown
  /** The gateway connection's clientId extension (`ext`, `_ss`), given to its sub-devices' sessions. */
  clientParams: Record<string, string>
}

export type GatewayHandler = (request: GatewayRequest) => Answer | Promise<Answer>

/** What the gateway's request handlers share. */
export interface GatewayCore {
  readonly acl: GatewayAcl
  readonly registry: DeviceRegistry
  readonly logger: Logger
  readonly limits: GatewayLimits
  /** Sub-devices deleted on the platform (login answered 521). */
  readonly deleted: Set<string>
  /** Sub-device sessions: ACL grant, online state, `device:online` / `device:offline`. */
  readonly sessions: SubSessions
  /** Hands a synthetic uplink to the emulator's services, as if the device had published it. */
  dispatch(ctx: UplinkContext): void
  now(): number
}
