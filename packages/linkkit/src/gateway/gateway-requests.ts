import { randomBytes } from 'node:crypto'
import {
  type Connection,
  type DeviceIdentity,
  hmacHex,
  isLinkkitError,
  LinkkitError,
  registerSignContent,
  type SignMethod,
  signContent,
  Topics,
} from '@linkkit/core'
import { identityKey } from './topic-identity.js'

/** What a sub-device signs its topology add and login with. */
export interface SubDeviceCredentials extends DeviceIdentity {
  deviceSecret: string
  signMethod: SignMethod
  cleanSession: boolean
}

/** The C SDKs write sign methods camel-cased in gateway messages (PROTOCOL.md §5). */
const CAMEL: Readonly<Record<SignMethod, string>> = {
  hmacmd5: 'hmacMd5',
  hmacsha1: 'hmacSha1',
  hmacsha256: 'hmacSha256',
}

/** clientId, timestamp and sign = HMAC(deviceSecret, "clientId…deviceName…productKey…timestamp…") (PROTOCOL.md §5). */
function signed(sub: SubDeviceCredentials, now: number) {
  const clientId = `${sub.productKey}.${sub.deviceName}`
  const timestamp = String(now)
  const content = signContent({ productKey: sub.productKey, deviceName: sub.deviceName, clientId, timestamp })
  return { clientId, timestamp, sign: hmacHex(sub.signMethod, sub.deviceSecret, content) }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** Entries a refused batch reply lists in `data` (the platform names the devices that failed). */
function listedFailures(error: LinkkitError): Map<string, number | undefined> {
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

function itemError(sub: DeviceIdentity, code: number, cause: LinkkitError): LinkkitError {
  return new LinkkitError('ERR_REPLY', `sub-device ${identityKey(sub)}: ${cause.message}`, {
    cause,
    replyCode: code,
    topic: cause.topic,
    details: { productKey: sub.productKey, deviceName: sub.deviceName },
  })
}

/**
 * The gateway's own requests about its sub-devices (PROTOCOL.md §5), on the gateway's topics.
 * Batch requests are all-or-nothing on the platform; when a refusal names the devices that
 * failed, those get their own error and the others are sent once more without them.
 */
export class GatewayRequests {
  readonly #gateway: Connection
  readonly #now: () => number

  constructor(gateway: Connection, now: () => number = Date.now) {
    this.#gateway = gateway
    this.#now = now
  }

  /** `thing.sub.register`: one secret (or ERR_DYNREG_FAILED carrying the reply code) per sub-device, in order. */
  async register(subs: DeviceIdentity[]): Promise<Array<string | LinkkitError>> {
    const secrets = new Map<string, string | LinkkitError>()
    const errors = await this.#batch(subs, async (batch) => {
      const params = batch.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
      const reply = await this.#gateway.request(Topics.sys(this.#gateway, 'thing/sub/register'), params, {
        method: 'thing.sub.register',
      })
      const found = secretsIn(batch, Array.isArray(reply.data) ? reply.data : [])
      for (const [i, sub] of batch.entries()) secrets.set(identityKey(sub), found[i] ?? noSecret(sub))
    })
    return subs.map((sub, i) => {
      const error = errors[i]
      if (error === undefined) return secrets.get(identityKey(sub)) ?? noSecret(sub)
      return new LinkkitError('ERR_DYNREG_FAILED', error.message, {
        cause: error,
        replyCode: error.replyCode,
        topic: error.topic,
        details: { productKey: sub.productKey, deviceName: sub.deviceName },
      })
    })
  }

  /** `thing.proxy.provisioning.product_register`, each entry signed with its product's secret. */
  async productRegister(
    subs: Array<DeviceIdentity & { productSecret: string }>,
  ): Promise<Array<string | LinkkitError>> {
    const proxieds = subs.map(({ productKey, deviceName, productSecret }) => {
      const random = randomBytes(8).toString('hex')
      const sign = hmacHex('hmacsha256', productSecret, registerSignContent(productKey, deviceName, random))
      return { productKey, deviceName, random, signMethod: CAMEL.hmacsha256, sign }
    })
    const topic = Topics.sys(this.#gateway, 'thing/proxy/provisioning/product_register')
    const reply = await this.#gateway.request(
      topic,
      { proxieds },
      {
        method: 'thing.proxy.provisioning.product_register',
      },
    )
    const data = isRecord(reply.data) ? reply.data : {}
    const successes = Array.isArray(data.successes) ? data.successes : []
    const failures = Array.isArray(data.failures) ? data.failures : []
    return secretsIn(subs, successes, failures)
  }

  /** `thing.topo.add`, each entry signed with the sub-device's secret. */
  topoAdd(subs: SubDeviceCredentials[]): Promise<Array<LinkkitError | undefined>> {
    return this.#batch(subs, (batch) => {
      const params = batch.map((sub) => {
        const { clientId, timestamp, sign } = signed(sub, this.#now())
        const { productKey, deviceName } = sub
        return { productKey, deviceName, clientId, timestamp, signmethod: CAMEL[sub.signMethod], sign }
      })
      return this.#gateway.request(Topics.sys(this.#gateway, 'thing/topo/add'), params, {
        method: 'thing.topo.add',
      })
    })
  }

  async topoDelete(subs: DeviceIdentity[]): Promise<void> {
    const params = subs.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
    await this.#gateway.request(Topics.sys(this.#gateway, 'thing/topo/delete'), params, {
      method: 'thing.topo.delete',
    })
  }

  async topoGet(): Promise<DeviceIdentity[]> {
    const reply = await this.#gateway.request(
      Topics.sys(this.#gateway, 'thing/topo/get'),
      {},
      { method: 'thing.topo.get' },
    )
    const data = Array.isArray(reply.data) ? reply.data : []
    return data.flatMap((entry) =>
      isRecord(entry) && typeof entry.productKey === 'string' && typeof entry.deviceName === 'string'
        ? [{ productKey: entry.productKey, deviceName: entry.deviceName }]
        : [],
    )
  }

  async listFound(subs: DeviceIdentity[]): Promise<void> {
    const params = subs.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
    await this.#gateway.request(Topics.sys(this.#gateway, 'thing/list/found'), params, {
      method: 'thing.list.found',
    })
  }

  /**
   * `combine.login` for one, `combine.batch_login` for several. Session messages go at QoS 0:
   * the platform supports no other QoS for them (docs, sub-device online and offline).
   */
  login(subs: SubDeviceCredentials[]): Promise<Array<LinkkitError | undefined>> {
    return this.#batch(subs, (batch) => {
      const entries = batch.map((sub) => {
        const { clientId, timestamp, sign } = signed(sub, this.#now())
        const cleanSession = String(sub.cleanSession)
        return {
          productKey: sub.productKey,
          deviceName: sub.deviceName,
          clientId,
          timestamp,
          cleanSession,
          sign,
        }
      })
      const [only] = batch
      if (entries.length === 1 && only !== undefined) {
        const params = { ...entries[0], signMethod: CAMEL[only.signMethod] }
        return this.#gateway.request(Topics.session(this.#gateway, 'login'), params, {
          method: 'combine.login',
          qos: 0,
        })
      }
      const signMethod = CAMEL[only?.signMethod ?? 'hmacsha256']
      const params = {
        signMethod,
        deviceList: entries.map((e, i) => ({
          ...e,
          signMethod: CAMEL[batch[i]?.signMethod ?? 'hmacsha256'],
        })),
      }
      return this.#gateway.request(Topics.session(this.#gateway, 'batch_login'), params, {
        method: 'combine.batch_login',
        qos: 0,
      })
    })
  }

  /** `combine.logout` for one, `combine.batch_logout` for several (QoS 0). */
  logout(subs: DeviceIdentity[]): Promise<Array<LinkkitError | undefined>> {
    return this.#batch(subs, (batch) => {
      const ids = batch.map(({ productKey, deviceName }) => ({ productKey, deviceName }))
      if (ids.length === 1)
        return this.#gateway.request(Topics.session(this.#gateway, 'logout'), ids[0], {
          method: 'combine.logout',
          qos: 0,
        })
      return this.#gateway.request(Topics.session(this.#gateway, 'batch_logout'), ids, {
        method: 'combine.batch_logout',
        qos: 0,
      })
    })
  }

  async #batch<T extends DeviceIdentity>(
    items: T[],
    send: (batch: T[]) => Promise<unknown>,
    retried = false,
  ): Promise<Array<LinkkitError | undefined>> {
    try {
      await send(items)
      return items.map(() => undefined)
    } catch (error) {
      if (!isLinkkitError(error, 'ERR_REPLY') || error.replyCode === undefined)
        return items.map(() => toError(error))
      const failed = listedFailures(error)
      const code = error.replyCode
      const rest = items.filter((item) => !failed.has(identityKey(item)))
      if (failed.size === 0 || retried || rest.length === 0 || rest.length === items.length)
        return items.map((item) => itemError(item, failed.get(identityKey(item)) ?? code, error))
      const again = await this.#batch(rest, send, true)
      return items.map((item) =>
        failed.has(identityKey(item))
          ? itemError(item, failed.get(identityKey(item)) ?? code, error)
          : again[rest.indexOf(item)],
      )
    }
  }
}

function noSecret(sub: DeviceIdentity): LinkkitError {
  return new LinkkitError('ERR_DYNREG_FAILED', `sub-device ${identityKey(sub)} got no secret`, {
    details: { productKey: sub.productKey, deviceName: sub.deviceName },
  })
}

function toError(error: unknown): LinkkitError {
  return error instanceof LinkkitError
    ? error
    : new LinkkitError('ERR_REPLY', String(error), { cause: error })
}

/** Matches registration results to the requested sub-devices. */
function secretsIn(
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
