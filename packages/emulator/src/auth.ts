import type { DeviceRegistry } from './registry.js'
import { parseClientId } from './signing/client-id.js'
import { type HmacMethod, hmacMatches, hmacMethodOf, hmacMethodOfLength } from './signing/hmac.js'
import { signContent } from './signing/sign-content.js'
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
      signMethod: HmacMethod
      password: string
    }
  | { kind: 'refused'; returnCode: RefusalCode; reason: string }

function refuse(returnCode: RefusalCode, reason: string): ConnectVerdict {
  return { kind: 'refused', returnCode, reason }
}

/** Username is `${dn}&${pk}`, device name first (docs/protocol.md §1.2). */
export function parseUsername(username: string | undefined): DeviceIdentity | undefined {
  if (username === undefined) return undefined
  // A product key holds no `&`; a device name might, so the last one splits them.
  const amp = username.lastIndexOf('&')
  if (amp <= 0 || amp === username.length - 1) return undefined
  return { deviceName: username.slice(0, amp), productKey: username.slice(amp + 1) }
}

/**
 * The HMAC a CONNECT names with `signmethod` (docs/protocol.md §1.2): `hmacmd5`, `hmacsha1` or
 * `hmacsha256` in any case; `md5`, `sha1` and `sha256` (the docs name `sha256` too) read as their
 * HMAC. Without a method it recognises, the length of the password's hex decides.
 */
export function connectSignMethod(value: string | undefined, password: string): HmacMethod | undefined {
  return hmacMethodOf(value) ?? hmacMethodOf(`hmac${value}`) ?? hmacMethodOfLength(password.length)
}

/**
 * Checks a CONNECT the way the platform does (docs/protocol.md §1.2): the password is the hex HMAC,
 * keyed with the device secret, of `clientId<base>deviceName<dn>productKey<pk>timestamp<ts>`, the
 * timestamp signed exactly when the clientId carries one; hex in either case; clientId keys the
 * emulator does not know are ignored. A clientId with `authType=register` is an MQTT dynamic
 * registration (§1.4) and is only recognised here; whether the device may register is decided
 * by the registration service.
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

  const content = signContent({
    clientId: base,
    deviceName: identity.deviceName,
    productKey: identity.productKey,
    timestamp: params.timestamp,
  })
  if (!hmacMatches(signMethod, device.deviceSecret, content, password))
    return refuse(ReturnCode.BadUsernameOrPassword, 'signature mismatch')
  return { kind: 'device', identity, clientParams: params }
}
