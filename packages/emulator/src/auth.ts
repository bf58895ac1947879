import { hexEquals, parseClientId, parseSignMethod, type SignMethod, signPassword } from '@linkkit/core'
import type { DeviceRegistry } from './registry.js'
import type { DeviceIdentity } from './types.js'

/** MQTT 3.1.1 CONNACK return codes the emulator uses (docs/protocol.md §1.2, "[inferred]"). */
export const ReturnCode = {
  /** The clientId is held by another device's session (MQTT 3.1.1 "identifier rejected"). */
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUsernameOrPassword: 4,
  NotAuthorized: 5,
} as const
export type RefusalCode = (typeof ReturnCode)[keyof typeof ReturnCode]

export interface ConnectInput {
  clientId: string
  username: string | undefined
  password: Buffer | undefined
  keepaliveSeconds: number
}

export type ConnectVerdict =
  | { kind: 'device'; identity: DeviceIdentity; clientParams: Record<string, string> }
  | {
      kind: 'register'
      identity: DeviceIdentity
      clientParams: Record<string, string>
      random: string
      signMethod: SignMethod
      password: string
    }
  | { kind: 'refused'; returnCode: RefusalCode; reason: string }

function refuse(returnCode: RefusalCode, reason: string): ConnectVerdict {
  return { kind: 'refused', returnCode, reason }
}

/** Username is `${dn}&${pk}`, device name first (docs/protocol.md §1.2). */
export function parseUsername(username: string | undefined): DeviceIdentity | undefined {
  if (username === undefined) return undefined
  const amp = username.lastIndexOf('&')
  if (amp <= 0 || amp === username.length - 1) return undefined
  return { deviceName: username.slice(0, amp), productKey: username.slice(amp + 1) }
}

const HEX_LENGTH_METHOD: Record<number, SignMethod> = { 32: 'hmacmd5', 40: 'hmacsha1', 64: 'hmacsha256' }

/**
 * The sign method a client asks for. `sha256`/`sha1`/`md5` (seen in docs) are read as their HMAC
 * forms; when `signmethod` is absent or unknown the password's hex length decides.
 */
export function connectSignMethod(value: string | undefined, password: string): SignMethod | undefined {
  const explicit = parseSignMethod(value) ?? parseSignMethod(value === undefined ? undefined : `hmac${value}`)
  return explicit ?? HEX_LENGTH_METHOD[password.length]
}

/**
 * Checks a CONNECT the way the platform does (docs/protocol.md §1.2): password = HMAC(deviceSecret,
 * "clientId<base>deviceName<dn>productKey<pk>[timestamp<ts>]"), timestamp included exactly when the
 * clientId carries one; hex compared case-insensitively; unknown clientId keys ignored.
 * A clientId with `authType=register` is an MQTT dynamic registration (§1.4) and is only
 * recognised here; whether the device may register is decided by the registration service.
 */
export function verifyConnect(
  input: ConnectInput,
  registry: DeviceRegistry,
  minKeepaliveSeconds: number,
): ConnectVerdict {
  const { base, params } = parseClientId(input.clientId)
  const identity = parseUsername(input.username)
  const password = input.password?.toString('utf8') ?? ''
  if (identity === undefined)
    return refuse(ReturnCode.BadUsernameOrPassword, 'username is not deviceName&productKey')
  const signMethod = connectSignMethod(params.signmethod, password)
  if (signMethod === undefined) return refuse(ReturnCode.BadUsernameOrPassword, 'unknown signmethod')

  const authType = params.authType ?? params.authtype
  if (authType === 'register') {
    const random = params.random
    if (random === undefined || random === '')
      return refuse(ReturnCode.BadUsernameOrPassword, 'register without random')
    return { kind: 'register', identity, clientParams: params, random, signMethod, password }
  }
  if (authType !== undefined) {
    return refuse(ReturnCode.NotAuthorized, `authType=${authType} is not supported by the emulator`)
  }

  if (input.keepaliveSeconds < minKeepaliveSeconds) {
    return refuse(
      ReturnCode.ServerUnavailable,
      `keepalive ${input.keepaliveSeconds}s is below ${minKeepaliveSeconds}s`,
    )
  }
  const device = registry.get(identity.productKey, identity.deviceName)
  if (device === undefined) return refuse(ReturnCode.NotAuthorized, 'unknown device')
  if (device.disabled) return refuse(ReturnCode.NotAuthorized, 'device is disabled')
  if (device.deviceSecret === undefined) return refuse(ReturnCode.NotAuthorized, 'device has no secret yet')

  const expected = signPassword(signMethod, device.deviceSecret, {
    productKey: identity.productKey,
    deviceName: identity.deviceName,
    clientId: base,
    timestamp: params.timestamp,
  })
  if (!hexEquals(password, expected)) return refuse(ReturnCode.BadUsernameOrPassword, 'signature mismatch')
  return { kind: 'device', identity, clientParams: params }
}
