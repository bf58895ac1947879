import type { DeviceIdentity } from '../types.js'
import { packPost } from './pack-post.js'
import { batchLogin, batchLogout, login, logout } from './session-uplinks.js'
import { listFound, productRegister, subRegister, topoAdd, topoDelete, topoGet } from './topo-uplinks.js'
import type { GatewayCore, GatewayHandler } from './types.js'

/** The gateway requests the platform answers (docs/protocol.md §5, §2.3 pack post), by topic filter. */
export function gatewayRoutes(
  core: GatewayCore,
  found: Map<string, DeviceIdentity[]>,
): Array<readonly [filter: string, handler: GatewayHandler]> {
  return [
    ['/sys/+/+/thing/sub/register', subRegister(core)],
    ['/sys/+/+/thing/proxy/provisioning/product_register', productRegister(core)],
    ['/sys/+/+/thing/topo/add', topoAdd(core)],
    ['/sys/+/+/thing/topo/delete', topoDelete(core)],
    ['/sys/+/+/thing/topo/get', topoGet(core)],
    ['/sys/+/+/thing/list/found', listFound(found)],
    ['/sys/+/+/thing/event/property/pack/post', packPost(core)],
    ['/ext/session/+/+/combine/login', login(core)],
    ['/ext/session/+/+/combine/batch_login', batchLogin(core)],
    ['/ext/session/+/+/combine/logout', logout(core)],
    ['/ext/session/+/+/combine/batch_logout', batchLogout(core)],
  ]
}
