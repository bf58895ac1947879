import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff.js'
import { LinkkitError } from './errors.js'
import type { LoggerOption } from './logger.js'
import { DEFAULT_OFFLINE_QUEUE, type OfflineQueueOptions } from './offline-queue.js'
import { isSignMethod, type SignMethod } from './sign.js'
import { assertTopicSegment } from './topics.js'

/** TLS settings for `mqtts://` brokers. Certificate verification stays on unless turned off by name. */
export interface TlsOptions {
  /** Extra CA certificate(s) to trust (PEM). */
  ca?: string | Buffer | Array<string | Buffer>
  /** Client certificate and key (X.509 device authentication). */
  cert?: string | Buffer
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
  productKey: string
  deviceName: string
  deviceSecret: string
  /** Region of a legacy public instance: host `<productKey>.iot-as-mqtt.<region>.aliyuncs.com`. @default 'cn-shanghai' */
  region?: string
  /** Any MQTT 3.1.1 broker URL (`mqtt://`, `mqtts://`); overrides `region`. */
  brokerUrl?: string
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
  reconnect?: Partial<ReconnectOptions> | false
  offlineQueue?: Partial<OfflineQueueOptions>
  logger?: LoggerOption
  /** Clock for the signing timestamp; tests inject a fixed one. @default Date.now */
  now?: () => number
}

export interface ResolvedConnectionOptions {
  productKey: string
  deviceName: string
  deviceSecret: string
  brokerUrl: string
  tls: TlsOptions | undefined
  signMethod: SignMethod
  clientIdBase: string
  clientIdExtensions: Record<string, string>
  keepaliveSeconds: number
  cleanSession: boolean
  connectTimeoutMs: number
  requestTimeoutMs: number
  reconnect: ReconnectOptions
  offlineQueue: OfflineQueueOptions
  logger: LoggerOption | undefined
  now: () => number
}

export const DEFAULT_REGION = 'cn-shanghai'

function invalid(message: string): LinkkitError {
  return new LinkkitError('ERR_INVALID_OPTIONS', message)
}

function positiveInt(value: unknown, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw invalid(`${name} must be an integer ≥ ${min}`)
  }
  return value
}

/** The broker URL for a region: `mqtts://<pk>.iot-as-mqtt.<region>.aliyuncs.com:443` (PROTOCOL.md §1.1). */
export function regionBrokerUrl(productKey: string, region: string): string {
  assertTopicSegment(region, 'region')
  if (!/^[a-z0-9-]+$/.test(region)) throw invalid(`region ${JSON.stringify(region)} is not a region id`)
  return `mqtts://${productKey}.iot-as-mqtt.${region}.aliyuncs.com:443`
}

/** Validates options once and returns a new frozen object with every default filled in. */
export function resolveConnectionOptions(options: ConnectionOptions): Readonly<ResolvedConnectionOptions> {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  const productKey = assertTopicSegment(options.productKey, 'productKey')
  const deviceName = assertTopicSegment(options.deviceName, 'deviceName')
  if (typeof options.deviceSecret !== 'string' || options.deviceSecret.length === 0) {
    throw invalid('deviceSecret must be a non-empty string')
  }
  const signMethod = options.signMethod ?? 'hmacsha256'
  if (!isSignMethod(signMethod)) throw invalid(`signMethod must be hmacmd5, hmacsha1 or hmacsha256`)
  let brokerUrl = options.brokerUrl ?? regionBrokerUrl(productKey, options.region ?? DEFAULT_REGION)
  try {
    const url = new URL(brokerUrl)
    if (!['mqtt:', 'mqtts:', 'tcp:', 'ssl:', 'tls:'].includes(url.protocol)) throw new Error(url.protocol)
    brokerUrl = url.toString()
  } catch {
    throw invalid(`brokerUrl ${JSON.stringify(options.brokerUrl)} is not an mqtt:// or mqtts:// URL`)
  }
  const keepaliveSeconds = positiveInt(options.keepaliveSeconds, 'keepaliveSeconds', 60)
  if (keepaliveSeconds > 1200) throw invalid('keepaliveSeconds must be at most 1200 (platform limit)')
  const clientIdBase = options.clientId ?? `${productKey}.${deviceName}`
  if (clientIdBase.length === 0 || clientIdBase.length > 64 || clientIdBase.includes('|')) {
    throw invalid('clientId must be 1–64 characters without |')
  }
  const reconnect: ReconnectOptions =
    options.reconnect === false
      ? { ...DEFAULT_BACKOFF, enabled: false }
      : { ...DEFAULT_BACKOFF, enabled: true, ...options.reconnect }
  if (
    reconnect.initialDelayMs < 0 ||
    reconnect.maxDelayMs < reconnect.initialDelayMs ||
    reconnect.multiplier < 1
  ) {
    throw invalid('reconnect delays must satisfy 0 ≤ initialDelayMs ≤ maxDelayMs and multiplier ≥ 1')
  }
  const offlineQueue = { ...DEFAULT_OFFLINE_QUEUE, ...options.offlineQueue }
  positiveInt(offlineQueue.maxSize, 'offlineQueue.maxSize', 0, 0)
  if (offlineQueue.overflow !== 'drop-oldest' && offlineQueue.overflow !== 'reject-new') {
    throw invalid("offlineQueue.overflow must be 'drop-oldest' or 'reject-new'")
  }
  return Object.freeze({
    productKey,
    deviceName,
    deviceSecret: options.deviceSecret,
    brokerUrl,
    tls: options.tls,
    signMethod,
    clientIdBase,
    clientIdExtensions: { ...options.clientIdExtensions },
    keepaliveSeconds,
    cleanSession: options.cleanSession ?? true,
    connectTimeoutMs: positiveInt(options.connectTimeoutMs, 'connectTimeoutMs', 10_000),
    requestTimeoutMs: positiveInt(options.requestTimeoutMs, 'requestTimeoutMs', 10_000),
    reconnect,
    offlineQueue,
    logger: options.logger,
    now: options.now ?? Date.now,
  })
}
