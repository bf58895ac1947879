import { formatClientId, type SignMethod, signPassword } from './sign.js'

/** What MQTT CONNECT carries for a device (docs/protocol.md §1.2). */
export interface MqttCredentials {
  /** `<base>|k=v,…|`, the full MQTT clientId. */
  clientId: string
  /** `${deviceName}&${productKey}`. */
  username: string
  /** Hex HMAC of the sign content with the device secret. */
  password: string
}

/** What the CONNECT credentials are built from. */
export interface CredentialInput {
  /** The device's product key. */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** The device secret, the HMAC key. */
  deviceSecret: string
  /** HMAC of the password. */
  signMethod: SignMethod
  /** The clientId text before the first `|`; it enters the sign content. */
  clientIdBase: string
  /** Plain TCP is securemode 3, TLS is 2 (docs/protocol.md §1.2). */
  secure: boolean
  /** Milliseconds since the epoch sent as `timestamp` and signed. */
  timestamp: number
  /** Sent as the `_v` clientId parameter. */
  sdkVersion: string
  /** Extra `key=value` clientId parameters (e.g. `ext`, `_ss`). */
  extensions?: Record<string, string>
}

/**
 * The CONNECT credentials (docs/protocol.md §1.2): clientId `<base>|securemode=…,signmethod=…,timestamp=…,_v=…,lan=…|`,
 * username `dn&pk` (device name first), password = hex HMAC over the alphabetically ordered content.
 */
export function buildCredentials(input: CredentialInput): MqttCredentials {
  const timestamp = String(input.timestamp)
  const clientId = formatClientId(input.clientIdBase, {
    securemode: input.secure ? '2' : '3',
    signmethod: input.signMethod,
    timestamp,
    _v: input.sdkVersion,
    lan: 'NodeJS',
    ...input.extensions,
  })
  const password = signPassword(input.signMethod, input.deviceSecret, {
    productKey: input.productKey,
    deviceName: input.deviceName,
    clientId: input.clientIdBase,
    timestamp,
  })
  return { clientId, username: `${input.deviceName}&${input.productKey}`, password }
}
