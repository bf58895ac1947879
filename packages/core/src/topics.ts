import { LinkkitError } from './errors.js'

/** Topics longer than this are refused by the C SDKs (CONFIG_MQTT_TOPIC_MAXLEN, docs/protocol.md §1.2). */
export const MAX_TOPIC_BYTES = 128
/** ProductKey, DeviceName and identifiers are bounded well under the topic limit. */
export const MAX_SEGMENT_LENGTH = 64

// A segment must not let a value escape its level (`/`), become a wildcard (`#`, `+`), or carry
// control characters or NUL, which MQTT forbids in topic names.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const FORBIDDEN = /[/#+\u0000-\u001f\u007f]/

/**
 * Validates one value that will be placed into a topic level (productKey, deviceName, service
 * identifier, module, rrpc id...). Throws ERR_INVALID_TOPIC_VALUE naming `what`.
 */
export function assertTopicSegment(value: unknown, what: string, maxLength = MAX_SEGMENT_LENGTH): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new LinkkitError('ERR_INVALID_TOPIC_VALUE', `${what} must be a non-empty string`, {
      details: { what },
    })
  }
  if (value.length > maxLength) {
    throw new LinkkitError('ERR_INVALID_TOPIC_VALUE', `${what} is longer than ${maxLength} characters`, {
      details: { what, length: value.length },
    })
  }
  if (FORBIDDEN.test(value)) {
    throw new LinkkitError('ERR_INVALID_TOPIC_VALUE', `${what} contains a character not allowed in a topic`, {
      details: { what },
    })
  }
  return value
}

/** The topic `assertTopicName` passed last: a device publishes on few topics, most often the same again. */
let lastTopicName: string | undefined

/** Validates a complete topic name for publishing: no wildcards, within the byte limit. */
export function assertTopicName(topic: string): string {
  if (topic === lastTopicName) return topic
  if (topic.length === 0 || /[#+]/.test(topic) || topic.includes('\u0000')) {
    throw new LinkkitError('ERR_INVALID_TOPIC_VALUE', 'topic name is empty or contains a wildcard', {
      topic,
    })
  }
  if (Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    throw new LinkkitError('ERR_INVALID_TOPIC_VALUE', `topic is longer than ${MAX_TOPIC_BYTES} bytes`, {
      topic,
    })
  }
  lastTopicName = topic
  return topic
}

/** MQTT topic filter matching with `+` (one level) and `#` (this level and below). */
export function topicMatches(filter: string, topic: string): boolean {
  if (filter === topic) return true
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const part = f[i]
    if (part === '#') return true
    if (i >= t.length) return false
    if (part !== '+' && part !== t[i]) return false
  }
  return f.length === t.length
}

/** The identity whose topics a builder renders. */
export interface DeviceIdentity {
  /** The product key. */
  productKey: string
  /** The device name. */
  deviceName: string
}

/**
 * The device whose namespace a topic or filter lies in (docs/protocol.md §2.2, §3.1, §5): `/sys/{pk}/{dn}/…`,
 * `/ota/device/{op}/{pk}/{dn}`, `/ext/{ntp,session,error}/{pk}/{dn}…`, `/ext/rrpc/{id}/sys/{pk}/{dn}/…`,
 * `/ext/rrpc/{id}/{pk}/{dn}/user/…`, `/shadow/{op}/{pk}/{dn}` and custom `/{pk}/{dn}/user/…`.
 * Undefined for any other topic, and when the productKey or deviceName level is a wildcard.
 */
export function topicIdentity(topic: string): DeviceIdentity | undefined {
  const levels = topic.split('/')
  const at = identityLevel(levels)
  if (at < 0) return undefined
  const productKey = levels[at]
  const deviceName = levels[at + 1]
  if (!isIdentityLevel(productKey) || !isIdentityLevel(deviceName)) return undefined
  return { productKey, deviceName }
}

function identityLevel(levels: readonly string[]): number {
  switch (levels[1]) {
    case 'sys':
      return 2
    case 'ota':
      return levels[2] === 'device' ? 4 : -1
    case 'shadow':
      return 3
    case 'ext':
      if (levels[2] === 'rrpc') return levels[4] === 'sys' ? 5 : 4
      return levels[2] === 'ntp' || levels[2] === 'session' || levels[2] === 'error' ? 3 : -1
    default:
      return levels[0] === '' && levels[3] === 'user' ? 1 : -1
  }
}

function isIdentityLevel(value: string | undefined): value is string {
  return value !== undefined && value !== '' && value !== '+' && value !== '#'
}

/** `pk/dn`, a map key for an identity. */
export function identityKey(identity: DeviceIdentity): string {
  return `${identity.productKey}/${identity.deviceName}`
}

/** Whether two identities name the same device. */
export function sameIdentity(a: DeviceIdentity, b: DeviceIdentity): boolean {
  return a.productKey === b.productKey && a.deviceName === b.deviceName
}

function id(d: DeviceIdentity): string {
  return `${assertTopicSegment(d.productKey, 'productKey')}/${assertTopicSegment(d.deviceName, 'deviceName')}`
}

/** Topic builders for the device's topics (docs/protocol.md §2.2, §3.1). Every value is validated. */
export const Topics = {
  /** `/sys/${pk}/${dn}/${rest}`. */
  sys: (d: DeviceIdentity, rest: string): string => `/sys/${id(d)}/${rest}`,
  /** Property post (uplink). */
  propertyPost: (d: DeviceIdentity) => `/sys/${id(d)}/thing/event/property/post`,
  /** Property set (downlink). */
  propertySet: (d: DeviceIdentity) => `/sys/${id(d)}/thing/service/property/set`,
  /** Property get (downlink, 3.x). */
  propertyGet: (d: DeviceIdentity) => `/sys/${id(d)}/thing/service/property/get`,
  /** Event post of `eventId` (uplink). */
  eventPost: (d: DeviceIdentity, eventId: string) =>
    `/sys/${id(d)}/thing/event/${assertTopicSegment(eventId, 'event identifier')}/post`,
  /** Async service `serviceId` (downlink). */
  service: (d: DeviceIdentity, serviceId: string) =>
    `/sys/${id(d)}/thing/service/${assertTopicSegment(serviceId, 'service identifier')}`,
  /** Legacy RRPC request (downlink). */
  rrpcRequest: (d: DeviceIdentity, rrpcId: string) =>
    `/sys/${id(d)}/rrpc/request/${assertTopicSegment(rrpcId, 'rrpc id')}`,
  /** Legacy RRPC response (uplink). */
  rrpcResponse: (d: DeviceIdentity, rrpcId: string) =>
    `/sys/${id(d)}/rrpc/response/${assertTopicSegment(rrpcId, 'rrpc id')}`,
  /** OTA version inform (uplink). */
  otaInform: (d: DeviceIdentity) => `/ota/device/inform/${id(d)}`,
  /** OTA upgrade push (downlink). */
  otaUpgrade: (d: DeviceIdentity) => `/ota/device/upgrade/${id(d)}`,
  /** OTA progress (uplink). */
  otaProgress: (d: DeviceIdentity) => `/ota/device/progress/${id(d)}`,
  /** Legacy firmware request (3.x `ITM_MSG_REQUEST_FOTA_IMAGE`). */
  otaRequest: (d: DeviceIdentity) => `/ota/device/request/${id(d)}`,
  /** Firmware query `thing.ota.firmware.get` (uplink; reply on `_reply`). */
  otaFirmwareGet: (d: DeviceIdentity) => `/sys/${id(d)}/thing/ota/firmware/get`,
  /** Remote configuration query (uplink). */
  configGet: (d: DeviceIdentity) => `/sys/${id(d)}/thing/config/get`,
  /** Remote configuration push (downlink). */
  configPush: (d: DeviceIdentity) => `/sys/${id(d)}/thing/config/push`,
  /** NTP request (uplink). */
  ntpRequest: (d: DeviceIdentity) => `/ext/ntp/${id(d)}/request`,
  /** NTP response (downlink). */
  ntpResponse: (d: DeviceIdentity) => `/ext/ntp/${id(d)}/response`,
  /** Cloud error notices (downlink). */
  extError: (d: DeviceIdentity) => `/ext/error/${id(d)}`,
  /** Sub-device session `combine.${op}` of a gateway (login, logout, batch_login…). */
  session: (d: DeviceIdentity, op: string) => `/ext/session/${id(d)}/combine/${op}`,
  /** The reply topic of a request topic. */
  reply: (topic: string) => `${topic}_reply`,
} as const
