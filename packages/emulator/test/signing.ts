import { createHmac } from 'node:crypto'

/**
 * How a device signs, for the tests' raw MQTT.js clients: written out from docs/protocol.md
 * §1.2, §1.4 and §5 with node:crypto, apart from the emulator's verifier and from the SDK's signer,
 * so that neither grades the other. auth-vectors.test.ts pins all three to outside vectors.
 */
export type TestSignMethod = 'hmacmd5' | 'hmacsha1' | 'hmacsha256'

/** The three HMACs of the `signmethod` clientId parameter. */
export const SIGN_METHODS: readonly TestSignMethod[] = ['hmacmd5', 'hmacsha1', 'hmacsha256']

/** Lowercase hex HMAC (`hmacsha256` → SHA-256) of `content` keyed with `secret`. */
export function hmacHex(method: TestSignMethod, secret: string, content: string): string {
  return createHmac(method.slice('hmac'.length), secret).update(content).digest('hex')
}

/** What a password (and a topo add or login) signs: `clientId…deviceName…productKey…[timestamp…]`. */
export function passwordContent(p: {
  clientId: string
  deviceName: string
  productKey: string
  timestamp?: string | undefined
}): string {
  const signed = `clientId${p.clientId}deviceName${p.deviceName}productKey${p.productKey}`
  return p.timestamp === undefined ? signed : `${signed}timestamp${p.timestamp}`
}

/** What a dynamic registration signs with the product secret: `deviceName…productKey…random…`. */
export function registerContent(productKey: string, deviceName: string, random: string): string {
  return `deviceName${deviceName}productKey${productKey}random${random}`
}

/** `<base>|k1=v1,k2=v2|`. */
export function clientIdOf(base: string, params: Record<string, string>): string {
  return `${base}|${Object.entries(params)
    .map(([k, v]) => `${k}=${v}`)
    .join(',')}|`
}
