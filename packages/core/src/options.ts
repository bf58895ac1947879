import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
import type { LoggerOption } from './logger.js'
import { DEFAULT_OFFLINE_QUEUE, type OfflineQueueOptions } from './offline-queue.js'
import {
  integerOption,
  invalidOption,
  nonEmptyStringRule,
  type OptionRule,
  objectRule,
  oneOfRule,
  refusedOption,
  requireOption,
  urlRule,
} from './option-check.js'
import { isSignMethod, type SignMethod } from './sign.js'
import type { Qos } from './subscriptions.js'
import { assertTopicSegment } from './topics.js'

/** TLS settings for `mqtts://` brokers. Certificate verification stays on unless turned off by name. */
export interface TlsOptions {
  /** Extra CA certificate(s) to trust (PEM). */
  ca?: string | Buffer | Array<string | Buffer>
  /** Client certificate and key (X.509 device authentication). */
  cert?: string | Buffer
  /** The client certificate's private key (PEM). */
  key?: string | Buffer
  /** Verify the broker's certificate. Only an explicit `false` turns it off. @default true */
  rejectUnauthorized?: boolean
  /** SNI server name, when it differs from the URL host. */
  servername?: string
}

export interface ReconnectOptions extends BackoffOptions {
  /** Reconnect automatically after an unexpected disconnect. @default true */
  enabled: boolean
}

/** Options of a device connection. Every field but the triple has a default. */
export interface ConnectionOptions {
  /** The device's product key (from the console). */
  productKey: string
  /** The device's name. */
  deviceName: string
  /** The device's secret; never logged. */
  deviceSecret: string
  /** Region of a legacy public instance: host `<productKey>.iot-as-mqtt.<region>.aliyuncs.com`. @default 'cn-shanghai' */
  region?: string
  /** Any MQTT 3.1.1 broker URL (`mqtt://`, `mqtts://`); overrides `region`. */
  brokerUrl?: string
  /** TLS settings for `mqtts://`; verification is on unless `rejectUnauthorized: false` is given. */
  tls?: TlsOptions
  /** HMAC used for the password. @default 'hmacsha256' */
  signMethod?: SignMethod
  /** The clientId base (text before the first `|`). @default `${productKey}.${deviceName}` */
  clientId?: string
  /** Extra `key=value` pairs for the clientId extension part (e.g. `{ ext: '1' }`). */
  clientIdExtensions?: Record<string, string>
  /** MQTT keepalive; the platform accepts 30–1200 s. @default 60 */
  keepaliveSeconds?: number
  /** MQTT clean session. @default true */
  cleanSession?: boolean
  /** How long `connect()` waits for CONNACK and SUBACKs. @default 10000 */
  connectTimeoutMs?: number
  /** Default timeout of a request waiting for its `_reply`. @default 10000 */
  requestTimeoutMs?: number
  /**
   * QoS of Alink requests (property and event posts, firmware/get, config get, gateway requests…)
   * when a call names none. The `_reply` is the acknowledgement, so the C SDK and the vendor Node
   * SDK send them at QoS 0; `1` adds a PUBACK per request (about 40 ms a round trip through a
   * broker that leaves Nagle's algorithm on, as Mosquitto does by default). @default 0
   */
  alinkQos?: Qos
  /** Automatic reconnect with exponential backoff and jitter, or `false` to fail on the first drop. @default { enabled: true, initialDelayMs: 1000, maxDelayMs: 60000, multiplier: 2, jitter: 0.5 } */
  reconnect?: Partial<ReconnectOptions> | false
  /** Requests and QoS 1 publishes held while reconnecting (see `PublishOptions.queueOffline`). @default { maxSize: 1000, maxBytes: 4194304, overflow: 'reject-new' } */
  offlineQueue?: Partial<OfflineQueueOptions>
  /** A pino logger or a level; silent by default, secrets redacted. */
  logger?: LoggerOption
  /** Clock for the signing timestamp; tests inject a fixed one. @default Date.now */
  now?: () => number
}

/** `ConnectionOptions` after validation, with every default filled in (frozen). */
export interface ResolvedConnectionOptions {
  /** See {@link ConnectionOptions.productKey}. */
  productKey: string
  /** See {@link ConnectionOptions.deviceName}. */
  deviceName: string
  /** See {@link ConnectionOptions.deviceSecret}. */
  deviceSecret: string
  /** The broker URL, from `brokerUrl` or the region. */
  brokerUrl: string
  /** See {@link ConnectionOptions.tls}. */
  tls: TlsOptions | undefined
  /** See {@link ConnectionOptions.signMethod}. */
  signMethod: SignMethod
  /** See {@link ConnectionOptions.clientId}. */
  clientIdBase: string
  /** See {@link ConnectionOptions.clientIdExtensions}. */
  clientIdExtensions: Record<string, string>
  /** See {@link ConnectionOptions.keepaliveSeconds}. */
  keepaliveSeconds: number
  /** See {@link ConnectionOptions.cleanSession}. */
  cleanSession: boolean
  /** See {@link ConnectionOptions.connectTimeoutMs}. */
  connectTimeoutMs: number
  /** See {@link ConnectionOptions.requestTimeoutMs}. */
  requestTimeoutMs: number
  /** See {@link ConnectionOptions.alinkQos}. */
  alinkQos: Qos
  /** See {@link ConnectionOptions.reconnect}. */
  reconnect: ReconnectOptions
  /** See {@link ConnectionOptions.offlineQueue}. */
  offlineQueue: OfflineQueueOptions
  /** See {@link ConnectionOptions.logger}. */
  logger: LoggerOption | undefined
  /** See {@link ConnectionOptions.now}. */
  now: () => number
}

/** Longest delay a Node timer takes (a longer one fires at once). */
const MAX_TIMER_MS = 2 ** 31 - 1

/** The region used when neither `region` nor `brokerUrl` is given. */
export const DEFAULT_REGION = 'cn-shanghai'

const SIGN_METHOD: OptionRule<SignMethod> = { test: isSignMethod, must: 'hmacmd5, hmacsha1 or hmacsha256' }
// The host may be left out (MQTT.js dials localhost then), as it always could.
const BROKER_URL = urlRule({
  protocols: ['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:'],
  must: 'an mqtt:// or mqtts:// URL',
  host: false,
})
const ALINK_QOS = oneOfRule([0, 1])
const OVERFLOW = oneOfRule(['drop-oldest', 'reject-new'])

/** The broker URL for a region: `mqtts://<pk>.iot-as-mqtt.<region>.aliyuncs.com:443` (docs/protocol.md §1.1). */
export function regionBrokerUrl(productKey: string, region: string): string {
  assertTopicSegment(region, 'region')
  if (!/^[a-z0-9-]+$/.test(region))
    throw refusedOption('region', `${JSON.stringify(region)} is not a region id`)
  return `mqtts://${productKey}.iot-as-mqtt.${region}.aliyuncs.com:443`
}

// The resolved defaults, frozen and shared by every connection that keeps them (a fleet opens thousands).
const RECONNECT_ON: ReconnectOptions = Object.freeze({ ...DEFAULT_BACKOFF, enabled: true })
const RECONNECT_OFF: ReconnectOptions = Object.freeze({ ...DEFAULT_BACKOFF, enabled: false })
const OFFLINE_QUEUE: OfflineQueueOptions = Object.freeze({ ...DEFAULT_OFFLINE_QUEUE })

/** Validates options once and returns a new frozen object with every default filled in. */
export function resolveConnectionOptions(options: ConnectionOptions): Readonly<ResolvedConnectionOptions> {
  requireOption(options, 'options', objectRule)
  const productKey = assertTopicSegment(options.productKey, 'productKey')
  const deviceName = assertTopicSegment(options.deviceName, 'deviceName')
  const deviceSecret = requireOption(options.deviceSecret, 'deviceSecret', nonEmptyStringRule)
  const signMethod = requireOption(options.signMethod ?? 'hmacsha256', 'signMethod', SIGN_METHOD)
  const brokerUrl = new URL(
    requireOption(
      options.brokerUrl ?? regionBrokerUrl(productKey, options.region ?? DEFAULT_REGION),
      'brokerUrl',
      BROKER_URL,
    ),
  ).toString()
  // At most 1200: the platform's limit.
  const keepaliveSeconds = integerOption(options.keepaliveSeconds, 'keepaliveSeconds', 60, { max: 1200 })
  const clientIdBase = options.clientId ?? `${productKey}.${deviceName}`
  if (clientIdBase.length === 0 || clientIdBase.length > 64 || clientIdBase.includes('|')) {
    throw invalidOption('clientId', '1–64 characters without |')
  }
  const reconnect: ReconnectOptions =
    options.reconnect === false
      ? RECONNECT_OFF
      : options.reconnect === undefined
        ? RECONNECT_ON
        : { ...DEFAULT_BACKOFF, enabled: true, ...options.reconnect }
  if (
    reconnect.initialDelayMs < 0 ||
    reconnect.maxDelayMs < reconnect.initialDelayMs ||
    reconnect.multiplier < 1
  ) {
    throw refusedOption('reconnect', 'delays must satisfy 0 ≤ initialDelayMs ≤ maxDelayMs and multiplier ≥ 1')
  }
  const alinkQos = requireOption(options.alinkQos ?? 0, 'alinkQos', ALINK_QOS)
  const offlineQueue =
    options.offlineQueue === undefined ? OFFLINE_QUEUE : { ...DEFAULT_OFFLINE_QUEUE, ...options.offlineQueue }
  integerOption(offlineQueue.maxSize, 'offlineQueue.maxSize', 0, { min: 0 })
  integerOption(offlineQueue.maxBytes, 'offlineQueue.maxBytes', 0, { min: 0 })
  requireOption(offlineQueue.overflow, 'offlineQueue.overflow', OVERFLOW)
  return Object.freeze({
    productKey,
    deviceName,
    deviceSecret,
    brokerUrl,
    tls: options.tls,
    signMethod,
    clientIdBase,
    clientIdExtensions: { ...options.clientIdExtensions },
    keepaliveSeconds,
    cleanSession: options.cleanSession ?? true,
    connectTimeoutMs: integerOption(options.connectTimeoutMs, 'connectTimeoutMs', 10_000, {
      max: MAX_TIMER_MS,
    }),
    requestTimeoutMs: integerOption(options.requestTimeoutMs, 'requestTimeoutMs', 10_000, {
      max: MAX_TIMER_MS,
    }),
    alinkQos,
    reconnect,
    offlineQueue,
    logger: options.logger,
    now: options.now ?? Date.now,
  })
}
