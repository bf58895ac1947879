import { readFileSync } from 'node:fs'

/**
 * Signatures made by clients nobody here wrote, as stored in fixtures/ (see each file's `source`):
 * - vendor-sdk-vectors.json: the vendor Node SDK 1.2.8 (`alibabacloud-iot-device-sdk`), printed
 *   once by fixtures/make-vendor-sdk-vectors.mjs with its clock stopped;
 * - c-sdk-vectors.json: the C SDK 3.x (v3.2.0), compiled from its own sources.
 * No test calls a signer, neither linkkit's nor a vendor's.
 */

export interface ConnectVector {
  name: string
  clientId: string
  username: string
  password: string
}
export interface VendorConnect extends ConnectVector {
  config: { clientId?: string; signAlgorithm?: string }
  platformAccepts: boolean
}
export interface VendorVectors {
  connect: VendorConnect[]
  subDevice: { device: Triple; signed: Record<string, string | number> }
  registration: { productSecret: string; form: Record<string, string> }
}
export interface CVectors {
  connect: Array<ConnectVector & { deviceSecret: string }>
  gateway: {
    subDevice: Triple & { productSecret: string }
    topoAdd: Array<Record<string, string>>
    login: Record<string, string>
    productRegister: { proxieds: Array<Record<string, string>> }
  }
  registration: {
    productKey: string
    deviceName: string
    productSecret: string
    httpsForm: string
    mqtt: { clientId: string; username: string; password: string }
  }
}
export interface Triple {
  productKey: string
  deviceName: string
  deviceSecret: string
}

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
export const VENDOR = fixture<VendorVectors>('vendor-sdk-vectors.json')
export const CSDK = fixture<CVectors>('c-sdk-vectors.json')

/** The vendor vectors' device (the same in every CONNECT vector). */
export const VENDOR_DEVICE: Triple = {
  productKey: 'a1NodeVec01',
  deviceName: 'vendor-lamp',
  deviceSecret: 'VendorDeviceSecret00000000000001',
}

/** Another hex digit in place of the one at `at` (the last by default): a one-character change. */
export function flipHex(hex: string, at = hex.length - 1): string {
  const digit = hex.charAt(at)
  const other = digit === '0' ? '1' : '0'
  return hex.slice(0, at) + other + hex.slice(at + 1)
}
