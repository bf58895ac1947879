import {
  type DeviceIdentity,
  hmacHex,
  identityKey,
  LinkkitError,
  type SignMethod,
  signContent,
} from '@linkkit/core'

/** What a sub-device signs its topology add and login with. */
export interface SubDeviceCredentials extends DeviceIdentity {
  deviceSecret: string
  signMethod: SignMethod
  cleanSession: boolean
}

/** The C SDKs write sign methods camel-cased in gateway messages (docs/protocol.md §5). */
export const CAMEL: Readonly<Record<SignMethod, string>> = {
  hmacmd5: 'hmacMd5',
  hmacsha1: 'hmacSha1',
  hmacsha256: 'hmacSha256',
}

/** clientId, timestamp and sign = HMAC(deviceSecret, "clientId…deviceName…productKey…timestamp…") (docs/protocol.md §5). */
export function signed(sub: SubDeviceCredentials, now: number) {
  const clientId = `${sub.productKey}.${sub.deviceName}`
  const timestamp = String(now)
  const content = signContent({ productKey: sub.productKey, deviceName: sub.deviceName, clientId, timestamp })
  return { clientId, timestamp, sign: hmacHex(sub.signMethod, sub.deviceSecret, content) }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Entries a refused batch reply lists in `data` (the platform names the devices that failed). */
export function listedFailures(error: LinkkitError): Map<string, number | undefined> {
  const data = error.details?.data
  const failed = new Map<string, number | undefined>()
  if (!Array.isArray(data)) return failed
  for (const entry of data) {
    if (!isRecord(entry) || typeof entry.productKey !== 'string' || typeof entry.deviceName !== 'string')
      continue
    failed.set(
      `${entry.productKey}/${entry.deviceName}`,
      typeof entry.code === 'number' ? entry.code : undefined,
    )
  }
  return failed
}

export function itemError(sub: DeviceIdentity, code: number, cause: LinkkitError): LinkkitError {
  return new LinkkitError('ERR_REPLY', `sub-device ${identityKey(sub)}: ${cause.message}`, {
    cause,
    replyCode: code,
    topic: cause.topic,
    details: { productKey: sub.productKey, deviceName: sub.deviceName },
  })
}

export function noSecret(sub: DeviceIdentity): LinkkitError {
  return new LinkkitError('ERR_DYNREG_FAILED', `sub-device ${identityKey(sub)} got no secret`, {
    details: { productKey: sub.productKey, deviceName: sub.deviceName },
  })
}

export function toError(error: unknown): LinkkitError {
  return error instanceof LinkkitError
    ? error
    : new LinkkitError('ERR_REPLY', String(error), { cause: error })
}

/** Matches registration results to the requested sub-devices. */
export function secretsIn(
  subs: DeviceIdentity[],
  successes: unknown[],
  failures: unknown[] = [],
): Array<string | LinkkitError> {
  const secrets = new Map<string, string>()
  for (const entry of successes) {
    if (isRecord(entry) && typeof entry.deviceSecret === 'string' && entry.deviceSecret.length > 0)
      secrets.set(`${String(entry.productKey)}/${String(entry.deviceName)}`, entry.deviceSecret)
  }
  const refusals = new Map<string, Record<string, unknown>>()
  for (const entry of failures)
    if (isRecord(entry)) refusals.set(`${String(entry.productKey)}/${String(entry.deviceName)}`, entry)
  return subs.map((sub) => {
    const secret = secrets.get(identityKey(sub))
    if (secret !== undefined) return secret
    const refusal = refusals.get(identityKey(sub))
    const replyCode = typeof refusal?.code === 'number' ? refusal.code : undefined
    const reason = typeof refusal?.message === 'string' ? `: ${refusal.message}` : ''
    return new LinkkitError('ERR_DYNREG_FAILED', `sub-device ${identityKey(sub)} got no secret${reason}`, {
      replyCode,
      details: { productKey: sub.productKey, deviceName: sub.deviceName },
    })
  })
}
