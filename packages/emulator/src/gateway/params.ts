import { isRecord } from '../alink/envelope.js'
import type { DeviceIdentity } from '../types.js'

// Same rule as topic segments (core's assertTopicSegment), without throwing.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN = /[/#+\u0000-\u001f\u007f]/

export function isSegment(value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 64 && !FORBIDDEN.test(value)
}

/** `{ productKey, deviceName }` of a params entry, or undefined when either is missing or invalid. */
export function readIdentity(value: unknown): DeviceIdentity | undefined {
  if (!isRecord(value) || !isSegment(value.productKey) || !isSegment(value.deviceName)) return undefined
  return { productKey: value.productKey, deviceName: value.deviceName }
}

/** A failure entry as the platform lists it in batch replies. */
export function failure(identity: DeviceIdentity, code: number, message: string) {
  return { productKey: identity.productKey, deviceName: identity.deviceName, code, message }
}
