import { randomBytes } from 'node:crypto'
import {
  type Connection,
  type DeviceIdentity,
  hmacHex,
  identityKey,
  isLinkkitError,
  LinkkitError,
  registerSignContent,
  Topics,
} from '@linkkit/core'
import {
  CAMEL,
  isRecord,
  itemError,
  listedFailures,
  noSecret,
  type SubDeviceCredentials,
  secretsIn,
  signed,
  toError,
} from './gateway-messages.js'

export type { SubDeviceCredentials }

/** A sub-device to register, with its product's secret for product-level registration. */
export interface Registration {
  identity: DeviceIdentity
  productSecret: string | undefined
}

/**
 * The gateway's own requests about its sub-devices (docs/protocol.md §5), on the gateway's topics.
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

  /**
   * Registers each sub-device the way it can: `product_register` with its product secret, else
   * `thing.sub.register`. One secret or error per item, in order.
   */
  async registerAny(items: Registration[]): Promise<Array<string | LinkkitError>> {
    const bySecret = items.flatMap((r) =>
      r.productSecret === undefined
        ? []
        : [
            {
              productKey: r.identity.productKey,
              deviceName: r.identity.deviceName,
              productSecret: r.productSecret,
            },
          ],
    )
    const plain = items.flatMap((r) => (r.productSecret === undefined ? [r.identity] : []))
    const [product, sub] = await Promise.all([
      bySecret.length === 0 ? [] : this.productRegister(bySecret),
      plain.length === 0 ? [] : this.register(plain),
    ])
    let p = 0
    let s = 0
    return items.map((r) => (r.productSecret === undefined ? sub[s++] : product[p++]) ?? noSecret(r.identity))
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
