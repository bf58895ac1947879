import { assertTopicSegment, LinkkitError, Topics } from '@linkkit/core'
import type { DeviceRegistry, DeviceState } from '../registry.js'
import type { ProductTsl } from '../tsl/model.js'
import type { DeviceIdentity, EmulatorPublishOptions } from '../types.js'
import { isRecord, readDeviceAnswer } from './envelope.js'
import { DownlinkIds } from './ids.js'
import type { ReplyWaiters, WaitOptions } from './reply-waiters.js'
import type {
  CloudErrorParams,
  ConfigPushOptions,
  ConfigPushSent,
  DeviceReply,
  DownlinkOptions,
  InvokeServiceOptions,
} from './types.js'

/** Service calls (property set/get included) take a reply with a fresh id (docs/protocol.md §6 item 16). */
const SERVICE: WaitOptions = Object.freeze({ adoptUnmatched: true })

export interface DownlinkDeps {
  registry: DeviceRegistry
  waiters: ReplyWaiters
  model(productKey: string): Promise<ProductTsl | undefined>
  publish(topic: string, payload: string | Uint8Array, options?: EmulatorPublishOptions): Promise<void>
  defaultTimeoutMs: number
}

/**
 * Requests the platform sends to a device and the replies it waits for (docs/protocol.md §2.2, §2.3).
 * Downlinks carry a string `id`, `version: "1.0"` and `method`, since 3.x drops any other form
 * (docs/protocol.md §6 item 4).
 */
export class Downlinks {
  readonly #d: DownlinkDeps
  readonly #ids = new DownlinkIds()

  constructor(deps: DownlinkDeps) {
    this.#d = deps
  }

  /** `thing.service.property.set`, checked against the writable properties of the TSL first. */
  async setProperties(
    device: DeviceIdentity,
    props: Record<string, unknown>,
    options: DownlinkOptions = {},
  ): Promise<DeviceReply> {
    if (!isRecord(props) || Object.keys(props).length === 0) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'properties must be a non-empty object')
    }
    this.#online(device)
    ;(await this.#d.model(device.productKey))?.assertSettable(props)
    const topic = Topics.propertySet(device)
    return this.#request(topic, Topics.reply(topic), 'thing.service.property.set', props, options, SERVICE)
  }

  /** `thing.service.property.get` (3.x legacy): params are identifiers, reply data their values. */
  async getProperties(
    device: DeviceIdentity,
    ids: string[],
    options: DownlinkOptions = {},
  ): Promise<DeviceReply> {
    if (!Array.isArray(ids) || ids.length === 0 || !ids.every((id) => typeof id === 'string')) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'ids must be a non-empty array of strings')
    }
    this.#online(device)
    ;(await this.#d.model(device.productKey))?.assertServiceInput('get', ids)
    const topic = Topics.propertyGet(device)
    return this.#request(topic, Topics.reply(topic), 'thing.service.property.get', [...ids], options, SERVICE)
  }

  /**
   * Invokes a service: async on `thing/service/${id}` (reply on `_reply`), or sync over RRPC, either
   * legacy `/sys/../rrpc/request/${rrpcId}` answered on `/rrpc/response/${rrpcId}` or, for a device
   * whose clientId `ext` has bit0 set, `/ext/rrpc/${rrpcId}/sys/../thing/service/${id}` answered
   * on the same topic (docs/protocol.md §1.5, §2.3).
   */
  async invokeService(
    device: DeviceIdentity,
    serviceId: string,
    params: Record<string, unknown> = {},
    options: InvokeServiceOptions = {},
  ): Promise<DeviceReply> {
    assertTopicSegment(serviceId, 'service identifier')
    if (!isRecord(params)) throw new LinkkitError('ERR_INVALID_ARGUMENT', 'service params must be an object')
    const state = this.#online(device)
    const model = await this.#d.model(device.productKey)
    model?.assertServiceInput(serviceId, params)
    const sync = options.sync ?? model?.callType(serviceId) === 'sync'
    // The built-ins `set` and `get` live on `thing/service/property/{set,get}` (docs/protocol.md §2.5).
    const path = serviceId === 'set' || serviceId === 'get' ? `property/${serviceId}` : serviceId
    const method = `thing.service.${path.replace('/', '.')}`
    const service = Topics.sys(device, `thing/service/${path}`)
    if (!sync) return this.#request(service, Topics.reply(service), method, params, options, SERVICE)
    const rrpcId = this.#ids.next()
    const form = options.rrpc ?? (extBit0(state.clientParams.ext) ? 'ext' : 'legacy')
    if (form === 'ext') {
      const topic = `/ext/rrpc/${rrpcId}${service}`
      return this.#request(topic, topic, method, params, options, SERVICE)
    }
    return this.#request(
      Topics.rrpcRequest(device, rrpcId),
      Topics.rrpcResponse(device, rrpcId),
      method,
      params,
      options,
      SERVICE,
    )
  }

  /** `thing.config.push` with the product's configuration offer; see `ConfigPushOptions.awaitReply`. */
  async pushConfig(
    device: DeviceIdentity,
    offer: object,
    options: ConfigPushOptions = {},
  ): Promise<DeviceReply | ConfigPushSent> {
    this.#online(device)
    const topic = Topics.configPush(device)
    if (options.awaitReply !== false) {
      return this.#request(topic, Topics.reply(topic), 'thing.config.push', offer, options)
    }
    const id = this.#ids.next()
    const body = JSON.stringify({ id, version: '1.0', params: offer, method: 'thing.config.push' })
    try {
      await this.#d.publish(topic, body, { qos: 0 })
    } catch (error) {
      throw new LinkkitError('ERR_PUBLISH_FAILED', `could not publish on ${topic}`, { topic, cause: error })
    }
    return { id }
  }

  /** Raw bytes on `thing/model/down_raw`; resolves with the bytes of the `down_raw_reply`. */
  async sendRaw(device: DeviceIdentity, bytes: Uint8Array, options: DownlinkOptions = {}): Promise<Buffer> {
    if (!(bytes instanceof Uint8Array))
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'raw data must be bytes')
    this.#online(device)
    const topic = Topics.sys(device, 'thing/model/down_raw')
    return this.#exchange(topic, `${topic}_reply`, undefined, bytes, options)
  }

  /** A notice on `/ext/error/${pk}/${dn}` (3.x hands `code`, `data`, `message` to ITE_CLOUD_ERROR). */
  async cloudError(device: DeviceIdentity, notice: CloudErrorParams): Promise<void> {
    if (!isRecord(notice) || !Number.isInteger(notice.code)) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'a cloud error notice needs an integer code')
    }
    const { code, message = '', data = {} } = notice
    await this.#d.publish(Topics.extError(device), JSON.stringify({ code, data, message }), { qos: 0 })
  }

  async #request(
    topic: string,
    replyTopic: string,
    method: string,
    params: unknown,
    options: DownlinkOptions,
    wait: WaitOptions = {},
  ): Promise<DeviceReply> {
    const id = this.#ids.next()
    const body = JSON.stringify({ id, version: '1.0', params, method })
    const payload = await this.#exchange(topic, replyTopic, id, body, options, wait)
    const { code, data, message } = readDeviceAnswer(payload, replyTopic)
    return message === undefined ? { id, code, data } : { id, code, data, message }
  }

  async #exchange(
    topic: string,
    replyTopic: string,
    id: string | undefined,
    payload: string | Uint8Array,
    options: DownlinkOptions,
    wait: WaitOptions = {},
  ): Promise<Buffer> {
    const timeoutMs = options.timeoutMs ?? this.#d.defaultTimeoutMs
    if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) {
      throw new LinkkitError('ERR_INVALID_ARGUMENT', 'timeoutMs must be a positive integer')
    }
    const closed = this.#d.waiters.closed
    if (closed !== undefined) throw closed
    const waiting = this.#d.waiters.wait(replyTopic, id, timeoutMs, wait)
    try {
      await this.#d.publish(topic, payload, { qos: 0 })
    } catch (error) {
      waiting.cancel()
      throw new LinkkitError('ERR_PUBLISH_FAILED', `could not publish on ${topic}`, { topic, cause: error })
    }
    return waiting.reply
  }

  #online(device: DeviceIdentity): DeviceState {
    const state = this.#d.registry.get(device.productKey, device.deviceName)
    if (state === undefined) {
      throw new LinkkitError(
        'ERR_INVALID_ARGUMENT',
        `unknown device ${device.productKey}/${device.deviceName}`,
      )
    }
    if (!state.online) {
      throw new LinkkitError('ERR_NOT_CONNECTED', `${device.productKey}/${device.deviceName} is offline`)
    }
    return state
  }
}

/** `ext` in the clientId is a bit field; bit0 asks for `/ext/rrpc` sync calls (docs/protocol.md §1.5). */
function extBit0(ext: string | undefined): boolean {
  return ext !== undefined && /^\d+$/.test(ext) && (Number(ext) & 1) === 1
}
