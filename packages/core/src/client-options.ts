import type { IClientOptions } from 'mqtt'
import { buildCredentials, type MqttCredentials } from './credentials.js'
import {
  type ConnectionOptions,
  type ResolvedConnectionOptions,
  resolveConnectionOptions,
} from './options.js'

/** Sent as the clientId's `_v` parameter. */
export const SDK_VERSION = 'linkkit-ts-0.1.0'

/** MQTT.js reconnects by itself on a fixed interval; the Connection drives reconnects with backoff instead. */
const NEVER_MS = 2_147_483_647

/**
 * MQTT.js options for a device: the signed credentials (securemode 2 over TLS, 3 over TCP), MQTT 3.1.1,
 * no MQTT.js reconnect or resubscribe (the Connection does both), and TLS verification on unless
 * `rejectUnauthorized: false` was given by name.
 */
export function mqttClientOptions(options: Readonly<ResolvedConnectionOptions>): {
  /** The signed clientId, username and password. */
  credentials: MqttCredentials
  /** What to pass to MQTT.js `connect()`. */
  mqttOptions: IClientOptions
} {
  const secure = ['mqtts:', 'ssl:', 'tls:'].includes(new URL(options.brokerUrl).protocol)
  const credentials = buildCredentials({
    productKey: options.productKey,
    deviceName: options.deviceName,
    deviceSecret: options.deviceSecret,
    signMethod: options.signMethod,
    clientIdBase: options.clientIdBase,
    secure,
    timestamp: options.now(),
    sdkVersion: SDK_VERSION,
    extensions: options.clientIdExtensions,
  })
  const mqttOptions: IClientOptions = {
    ...credentials,
    protocolVersion: 4,
    keepalive: options.keepaliveSeconds,
    clean: options.cleanSession,
    connectTimeout: options.connectTimeoutMs,
    reconnectPeriod: NEVER_MS,
    resubscribe: false,
    manualConnect: true,
  }
  if (secure) {
    const tls = options.tls ?? {}
    Object.assign(mqttOptions, {
      ca: tls.ca,
      cert: tls.cert,
      key: tls.key,
      servername: tls.servername,
      rejectUnauthorized: tls.rejectUnauthorized !== false,
    })
  }
  return { credentials, mqttOptions }
}

/**
 * The MQTT.js options of one device, from its connection options validated as `Connection`
 * validates them: the same signed CONNECT (credentials, MQTT 3.1.1, keepalive, TLS), with neither
 * MQTT.js reconnects nor resubscriptions, and `manualConnect` set (call `client.connect()`). For
 * code that drives MQTT.js clients itself, such as a fleet of simulated devices. Throws
 * ERR_INVALID_OPTIONS or ERR_INVALID_TOPIC_VALUE like `new Connection(options)`.
 */
export function deviceMqttOptions(options: ConnectionOptions): IClientOptions {
  return mqttClientOptions(resolveConnectionOptions(options)).mqttOptions
}
