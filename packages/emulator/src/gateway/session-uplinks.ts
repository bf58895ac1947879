import { type Answer, isRecord } from '../alink/envelope.js'
import { deviceKey } from '../registry.js'
import type { DeviceIdentity } from '../types.js'
import { GATEWAY_MESSAGES, GatewayCodes, MAX_SESSION_BATCH } from './codes.js'
import { failure, readIdentity } from './params.js'
import { text, verifySign } from './signatures.js'
import type { GatewayCore, GatewayHandler, GatewayRequest } from './types.js'

type LoginCheck =
  | { ok: true; id: DeviceIdentity; clientId: string; cleanSession: boolean }
  | { ok: false; id: DeviceIdentity | undefined; code: number }

/**
 * Checks one login entry the way the platform's sub-device login does: 460 malformed, 521
 * deleted, 6100 unknown, 522 disabled, 6401 not in this gateway's topology, 6287 bad signature.
 */
function checkLogin(
  core: GatewayCore,
  gateway: DeviceIdentity,
  entry: unknown,
  signMethod: unknown,
): LoginCheck {
  const id = readIdentity(entry)
  if (id === undefined || !isRecord(entry)) return { ok: false, id, code: GatewayCodes.invalidParams }
  const clientId = text(entry.clientId)
  if (clientId === undefined || typeof entry.sign !== 'string')
    return { ok: false, id, code: GatewayCodes.invalidParams }
  if (core.deleted.has(deviceKey(id.productKey, id.deviceName)))
    return { ok: false, id, code: GatewayCodes.deviceDeleted }
  const state = core.registry.get(id.productKey, id.deviceName)
  if (state === undefined) return { ok: false, id, code: GatewayCodes.deviceNotFound }
  if (state.disabled) return { ok: false, id, code: GatewayCodes.deviceDisabled }
  if (!core.acl.topology.isMember(gateway, id)) return { ok: false, id, code: GatewayCodes.topoNotExist }
  const signed = { ...id, clientId, timestamp: text(entry.timestamp), signMethod, sign: entry.sign }
  if (!verifySign(state.deviceSecret, signed)) return { ok: false, id, code: GatewayCodes.invalidSign }
  return {
    ok: true,
    id,
    clientId,
    cleanSession: entry.cleanSession !== 'false' && entry.cleanSession !== false,
  }
}

function message(code: number): string {
  return GATEWAY_MESSAGES[code] ?? 'error'
}

/** Answers for the entries that failed, listing each (a batch fails as a whole, docs/protocol.md §5). */
function refused(checks: LoginCheck[]): Answer | undefined {
  const failed = checks.filter((c): c is Extract<LoginCheck, { ok: false }> => !c.ok)
  const first = failed[0]
  if (first === undefined) return undefined
  const data = failed.flatMap((c) => (c.id === undefined ? [] : [failure(c.id, c.code, message(c.code))]))
  return { code: first.code, message: message(first.code), data }
}

function overCapacity(core: GatewayCore, gateway: DeviceIdentity, ids: DeviceIdentity[]): Answer | undefined {
  const topology = core.acl.topology
  const fresh = ids.filter((id) => !topology.loggedInVia(gateway, id)).length
  if (topology.onlineCount(gateway) + fresh <= core.limits.maxOnline) return undefined
  return { code: GatewayCodes.tooManyOnline, message: message(GatewayCodes.tooManyOnline) }
}

function loginAll(core: GatewayCore, request: GatewayRequest, checks: LoginCheck[]): DeviceIdentity[] {
  const ids: DeviceIdentity[] = []
  for (const check of checks) {
    if (!check.ok) continue
    const { clientId, cleanSession } = check
    core.sessions.login(request.gateway, check.id, {
      clientId,
      cleanSession,
      clientParams: request.clientParams,
    })
    ids.push(check.id)
  }
  return ids
}

/** `combine.login` on `/ext/session/{gw}/combine/login`. */
export function login(core: GatewayCore): GatewayHandler {
  return (request) => {
    const params = isRecord(request.params) ? request.params : {}
    const checks = [checkLogin(core, request.gateway, params, params.signMethod)]
    const [check] = checks
    if (check === undefined || !check.ok) {
      const code = check?.code ?? GatewayCodes.invalidParams
      return { code, message: message(code) }
    }
    const full = overCapacity(core, request.gateway, [check.id])
    if (full !== undefined) return full
    loginAll(core, request, checks)
    return { code: GatewayCodes.success, data: check.id }
  }
}

/**
 * `combine.batch_login`: at most 50 entries, all logged in or none; on failure `data` lists the
 * refused entries with their codes.
 */
export function batchLogin(core: GatewayCore): GatewayHandler {
  return (request) => {
    const params = isRecord(request.params) ? request.params : {}
    const list = params.deviceList
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SESSION_BATCH) {
      return {
        code: GatewayCodes.invalidParams,
        message: `deviceList must hold 1–${MAX_SESSION_BATCH} entries`,
      }
    }
    const checks = list.map((entry) =>
      checkLogin(
        core,
        request.gateway,
        entry,
        (isRecord(entry) ? entry.signMethod : undefined) ?? params.signMethod,
      ),
    )
    const refusal = refused(checks)
    if (refusal !== undefined) return refusal
    const ids = checks.flatMap((c) => (c.ok ? [c.id] : []))
    const full = overCapacity(core, request.gateway, ids)
    if (full !== undefined) return full
    return { code: GatewayCodes.success, data: loginAll(core, request, checks) }
  }
}

/** `combine.logout`: 520 when the sub-device has no session through this gateway. */
export function logout(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    const id = readIdentity(params)
    if (id === undefined)
      return { code: GatewayCodes.invalidParams, message: message(GatewayCodes.invalidParams) }
    if (!core.acl.topology.loggedInVia(gateway, id))
      return { code: GatewayCodes.noSession, message: message(GatewayCodes.noSession) }
    core.sessions.logout(id)
    return { code: GatewayCodes.success, data: id }
  }
}

/** `combine.batch_logout`: at most 50, all or none. */
export function batchLogout(core: GatewayCore): GatewayHandler {
  return ({ gateway, params }) => {
    const ids = Array.isArray(params) ? params.map(readIdentity) : []
    if (ids.length === 0 || ids.length > MAX_SESSION_BATCH || ids.some((id) => id === undefined)) {
      return { code: GatewayCodes.invalidParams, message: message(GatewayCodes.invalidParams) }
    }
    const valid = ids as DeviceIdentity[]
    const missing = valid.filter((id) => !core.acl.topology.loggedInVia(gateway, id))
    if (missing.length > 0) {
      const code = GatewayCodes.noSession
      return { code, message: message(code), data: missing.map((id) => failure(id, code, message(code))) }
    }
    for (const id of valid) core.sessions.logout(id)
    return { code: GatewayCodes.success, data: valid }
  }
}
