import { createHash } from 'node:crypto'
import { sameIdentity } from '@linkkit/core'
import { type Answer, fail, isRecord } from '../alink/envelope.js'
import { allowsSubRegistration, newDeviceSecret, registerDevice } from '../registration.js'
import { deviceKey } from '../registry.js'
import { hmacMethodOf } from '../signing/hmac.js'
import type { DeviceIdentity } from '../types.js'
import { GATEWAY_MESSAGES, GatewayCodes, MAX_TOPO_BATCH } from './codes.js'
import { failure, readIdentity } from './params.js'
import { text, verifySign } from './signatures.js'
import type { GatewayCore, GatewayHandler, GatewayRequest } from './types.js'

function refuse(
  code: number,
  identity?: DeviceIdentity,
  message = GATEWAY_MESSAGES[code] ?? 'error',
): Answer {
  return identity === undefined
    ? fail(code, message)
    : { code, message, data: [failure(identity, code, message)] }
}

/** A stable stand-in for the platform's iotId. */
function iotId(identity: DeviceIdentity): string {
  return createHash('sha1')
    .update(deviceKey(identity.productKey, identity.deviceName))
    .digest('hex')
    .slice(0, 20)
}

/** `[{productKey, deviceName}, …]` with 1–30 entries, or undefined. */
function identityList(params: unknown): DeviceIdentity[] | undefined {
  if (!Array.isArray(params) || params.length === 0 || params.length > MAX_TOPO_BATCH) return undefined
  const ids = params.map(readIdentity)
  return ids.every((id) => id !== undefined) ? (ids as DeviceIdentity[]) : undefined
}

const NOT_A_GATEWAY = 'only a gateway may register sub-devices'

/**
 * `thing.sub.register` (docs/protocol.md §5): answered only to a gateway (its product's `nodeType`). A
 * sub-device that is not activated gets its secret (a new one when it has none) when its product
 * allows dynamic registration or it was listed without a secret; any name of a product with
 * `dynamicRegistration` is created. Refusals: 401 (no gateway, registration not allowed), 400
 * (already activated), 6100, 521, 522, 6402. All or nothing.
 */
export function subRegister(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    if (!core.registry.isGateway(gateway)) return refuse(GatewayCodes.authError, undefined, NOT_A_GATEWAY)
    const ids = identityList(params)
    if (ids === undefined) return refuse(GatewayCodes.invalidParams)
    for (const id of ids) {
      if (sameIdentity(id, gateway)) return refuse(GatewayCodes.topoSelf, id)
      if (core.deleted.has(deviceKey(id.productKey, id.deviceName)))
        return refuse(GatewayCodes.deviceDeleted, id)
      const product = core.registry.product(id.productKey)
      const state = core.registry.get(id.productKey, id.deviceName)
      if (state === undefined) {
        if (product?.dynamicRegistration !== true) return refuse(GatewayCodes.deviceNotFound, id)
        continue
      }
      if (state.disabled) return refuse(GatewayCodes.deviceDisabled, id)
      if (state.activated) return refuse(GatewayCodes.alreadyActivated, id, 'device is already activated')
      if (!allowsSubRegistration(product, state))
        return refuse(GatewayCodes.authError, id, 'the product does not allow dynamic registration')
    }
    const data = ids.map((id) => {
      const state = core.registry.get(id.productKey, id.deviceName) ?? core.registry.addDevice(id)
      if (state.deviceSecret === undefined) {
        state.deviceSecret = newDeviceSecret()
        state.secretSource = 'registered'
        core.registry.saveRecord(state)
      }
      return { iotId: iotId(id), ...id, deviceSecret: state.deviceSecret }
    })
    return { code: GatewayCodes.success, data }
  }
}

/**
 * `thing.proxy.provisioning.product_register`: "one product one secret" for sub-devices, each
 * signed with HMAC(productSecret, "deviceName…productKey…random…"). Answered only to a gateway
 * (else 401); 200 with `{ successes, failures }` (docs/protocol.md §5), an activated device a failure (400).
 */
export function productRegister(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    if (!core.registry.isGateway(gateway)) return refuse(GatewayCodes.authError, undefined, NOT_A_GATEWAY)
    const proxieds = isRecord(params) ? params.proxieds : undefined
    if (!Array.isArray(proxieds) || proxieds.length === 0 || proxieds.length > MAX_TOPO_BATCH)
      return refuse(GatewayCodes.invalidParams)
    const successes: unknown[] = []
    const failures: unknown[] = []
    for (const entry of proxieds) {
      const record = isRecord(entry) ? entry : {}
      const outcome = registerDevice(core.registry, {
        productKey: text(record.productKey),
        deviceName: text(record.deviceName),
        random: text(record.random),
        sign: text(record.sign),
        signMethod: hmacMethodOf(record.signMethod),
      })
      if (outcome.ok) {
        const { productKey, deviceName, deviceSecret } = outcome
        successes.push({ iotId: iotId(outcome), productKey, deviceName, deviceSecret })
      } else {
        failures.push({
          productKey: record.productKey,
          deviceName: record.deviceName,
          code: outcome.code,
          message: outcome.message,
        })
      }
    }
    return { code: GatewayCodes.success, data: { successes, failures } }
  }
}

/**
 * `thing.topo.add`, each entry signed with the sub-device's secret (docs/protocol.md §5): 460 for a
 * malformed entry, 6402 for the gateway itself, 6100 for an unknown device, 401 for a bad sign,
 * 6400 past the topology limit. All or nothing, as the platform rolls back on any failure.
 */
export function topoAdd(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    if (!Array.isArray(params) || params.length === 0 || params.length > MAX_TOPO_BATCH)
      return refuse(GatewayCodes.invalidParams)
    const ids: DeviceIdentity[] = []
    for (const entry of params) {
      const id = readIdentity(entry)
      if (id === undefined || !isRecord(entry)) return refuse(GatewayCodes.invalidParams)
      if (sameIdentity(id, gateway)) return refuse(GatewayCodes.topoSelf, id)
      if (core.deleted.has(deviceKey(id.productKey, id.deviceName)))
        return refuse(GatewayCodes.deviceNotFound, id)
      const state = core.registry.get(id.productKey, id.deviceName)
      if (state === undefined) return refuse(GatewayCodes.deviceNotFound, id)
      const signed = {
        ...id,
        clientId: text(entry.clientId),
        timestamp: text(entry.timestamp),
        signMethod: entry.signmethod ?? entry.signMethod,
        sign: entry.sign,
      }
      if (!verifySign(state.deviceSecret, signed)) return refuse(GatewayCodes.authError, id)
      ids.push(id)
    }
    const topology = core.acl.topology
    const added = ids.filter((id) => !topology.isMember(gateway, id)).length
    if (topology.size(gateway) + added > core.limits.maxTopology)
      return refuse(GatewayCodes.topoCountExceeded)
    for (const id of ids) {
      const session = topology.session(id)
      if (session !== undefined && !sameIdentity(session.gateway, gateway)) core.sessions.logout(id)
      topology.add(gateway, id)
    }
    return { code: GatewayCodes.success, data: ids }
  }
}

/** `thing.topo.delete`: logs the sub-devices out and removes them; 6401 when one is not in the topology. */
export function topoDelete(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    const ids = identityList(params)
    if (ids === undefined) return refuse(GatewayCodes.invalidParams)
    const topology = core.acl.topology
    const missing = ids.find((id) => !topology.isMember(gateway, id))
    if (missing !== undefined) return refuse(GatewayCodes.topoNotExist, missing)
    for (const id of ids) {
      if (topology.loggedInVia(gateway, id)) core.sessions.logout(id)
      topology.remove(gateway, id)
    }
    return { code: GatewayCodes.success, data: {} }
  }
}

/** `thing.topo.get`: the gateway's sub-devices. */
export function topoGet(core: GatewayCore): GatewayHandler {
  return ({ gateway }) => ({ code: GatewayCodes.success, data: core.acl.topology.members(gateway) })
}

/** `thing.list.found`: sub-devices the gateway discovered, kept for `emu.gateway.found()`. */
export function listFound(found: Map<string, DeviceIdentity[]>): GatewayHandler {
  return ({ gateway, params }: GatewayRequest) => {
    const ids = identityList(params)
    if (ids === undefined) return refuse(GatewayCodes.invalidParams)
    const list = found.get(deviceKey(gateway.productKey, gateway.deviceName)) ?? []
    for (const id of ids) if (!list.some((known) => sameIdentity(known, id))) list.push(id)
    found.set(deviceKey(gateway.productKey, gateway.deviceName), list)
    return { code: GatewayCodes.success, data: {} }
  }
}
