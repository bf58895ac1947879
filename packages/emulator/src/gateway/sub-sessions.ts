import { safeEmit, sameIdentity } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { DeviceRegistry } from '../registry.js'
import type { DeviceConnectionInfo, DeviceIdentity, EmulatorEvents } from '../types.js'
import type { GatewayAcl } from './gateway-acl.js'

export interface SubSessionsDeps {
  acl: GatewayAcl
  registry: DeviceRegistry
  events: EventEmitter<EmulatorEvents>
  logger: Logger
}

/**
 * Starts and ends sub-device sessions (docs/protocol.md §5): the ACL grant that lets the gateway
 * carry the sub-device's topics, its online state in the registry, and `device:online` /
 * `device:offline`, on which the OTA service offers pending jobs as for any device.
 */
export class SubSessions {
  readonly #d: SubSessionsDeps

  constructor(deps: SubSessionsDeps) {
    this.#d = deps
  }

  /** `clientParams` are the gateway connection's: downlinks to the sub-device travel on it. */
  login(
    gateway: DeviceIdentity,
    sub: DeviceIdentity,
    session: { clientId: string; cleanSession: boolean; clientParams: Record<string, string> },
  ): void {
    const { acl, registry } = this.#d
    const previous = acl.topology.session(sub)
    if (previous !== undefined && !sameIdentity(previous.gateway, gateway)) this.logout(sub)
    const { clientId, cleanSession, clientParams } = session
    acl.topology.login(sub, { gateway, clientId, cleanSession, since: Date.now() })
    acl.allow(gateway, sub)
    registry.markOnline(sub, clientId, clientParams, registry.newToken(), { ...gateway })
    const { productKey, deviceName } = sub
    const info = {
      productKey,
      deviceName,
      clientId,
      clientParams: { ...clientParams },
      gateway: { ...gateway },
    }
    this.#emit('device:online', info)
  }

  /** Ends the sub-device's session; false when it had none. */
  logout(sub: DeviceIdentity): boolean {
    const { acl, registry } = this.#d
    const session = acl.topology.logout(sub)
    if (session === undefined) return false
    acl.revoke(session.gateway, sub)
    // The presence is the session's while its gateway holds it (not a direct connection since).
    const holder = registry.holder(sub)
    if (holder?.gateway !== undefined && sameIdentity(holder.gateway, session.gateway))
      registry.markOffline(sub, holder.token)
    const clientParams = { ...(registry.get(sub.productKey, sub.deviceName)?.clientParams ?? {}) }
    const { productKey, deviceName } = sub
    const gateway = { ...session.gateway }
    this.#emit('device:offline', {
      productKey,
      deviceName,
      clientId: session.clientId,
      clientParams,
      gateway,
    })
    return true
  }

  #emit(event: 'device:online' | 'device:offline', info: DeviceConnectionInfo): void {
    safeEmit(this.#d.events, this.#d.logger, event, info)
  }
}
