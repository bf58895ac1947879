import { safeEmit } from '@linkkit/core'
import type { EventEmitter } from 'eventemitter3'
import type { Logger } from 'pino'
import type { DeviceRegistry, DeviceState } from './registry.js'
import type { DeviceConnectionInfo, DeviceIdentity, EmulatorEvents } from './types.js'

/**
 * With scale-out, emits `device:online` and `device:offline` (with `remote: true`) for connections
 * other nodes hold, as their presence changes reach this node. A connection of this node that
 * another node took over is ended by Connections, which emits its own `device:offline`.
 */
export function relayRemotePresence(
  registry: DeviceRegistry,
  events: EventEmitter<EmulatorEvents>,
  logger: Logger,
  node: string,
): void {
  registry.onRemotePresence((state, holder, previous) => {
    if (holder.node === node && previous.node === node) return
    const replaced = previous.token !== holder.token
    if (previous.online && previous.node !== node && (replaced || !state.online))
      safeEmit(events, logger, 'device:offline', info(state, previous.gateway))
    if (state.online && holder.node !== node && replaced)
      safeEmit(events, logger, 'device:online', info(state, holder.gateway))
  })
}

function info(state: DeviceState, gateway: DeviceIdentity | undefined): DeviceConnectionInfo {
  return {
    productKey: state.productKey,
    deviceName: state.deviceName,
    clientId: state.clientId ?? '',
    clientParams: { ...state.clientParams },
    ...(gateway === undefined ? {} : { gateway: { ...gateway } }),
    remote: true,
  }
}
