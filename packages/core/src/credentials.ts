import { formatClientId, type SignMethod, signPassword } from './sign.js'

export interface MqttCredentials {
  clientId: string
  username: string
  password: string
}

export interface CredentialInput {
  productKey: string
  deviceName: string
  deviceSecret: string
  signMethod: SignMethod
  clientIdBase: string
  /** Plain TCP is securemode 3, TLS is 2 (PROTOCOL.md §1.2). */
  secure: boolean
  timestamp: number
  sdkVersion: string
  extensions?: Record<string, string>
}

/**
 * The CONNECT credentials (PROTOCOL.md §1.2): clientId `<base>|securemode=…,signmethod=…,timestamp=…,_v=…,lan=…|`,
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
