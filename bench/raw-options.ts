import { buildCredentials, SDK_VERSION } from '@linkkit/core'
import type { IClientOptions } from 'mqtt'

/** MQTT.js options for the raw baseline: the same signed CONNECT a linkkit Connection sends, nothing else. */
export function rawOptions(productKey: string, deviceName: string, deviceSecret: string): IClientOptions {
  const credentials = buildCredentials({
    productKey,
    deviceName,
    deviceSecret,
    signMethod: 'hmacsha256',
    clientIdBase: `${productKey}.${deviceName}`,
    secure: false,
    timestamp: Date.now(),
    sdkVersion: SDK_VERSION,
  })
  return { ...credentials, protocolVersion: 4, keepalive: 60, clean: true, reconnectPeriod: 0 }
}
