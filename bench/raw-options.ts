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

/**
 * The filters a `linkkit.open()` device with a thing model and firmware subscribes at connect (as
 * the emulator's `client:subscribed` lists them), so the raw baseline asks the broker for the same.
 */
export function deviceFilters(productKey: string, deviceName: string): Record<string, { qos: 0 | 1 }> {
  const sys = `/sys/${productKey}/${deviceName}/`
  const filters = [
    `${sys}thing/service/#`,
    `${sys}thing/model/down_raw`,
    `/ext/error/${productKey}/${deviceName}`,
    `/ext/ntp/${productKey}/${deviceName}/response`,
    `${sys}thing/event/+/post_reply`,
    `${sys}thing/event/property/+/post_reply`,
    `${sys}thing/property/desired/get_reply`,
    `${sys}thing/property/desired/delete_reply`,
    `${sys}thing/deviceinfo/update_reply`,
    `${sys}thing/deviceinfo/delete_reply`,
    `${sys}thing/model/up_raw_reply`,
    `${sys}rrpc/request/+`,
    `/ext/rrpc/+${sys}#`,
    `/ota/device/upgrade/${productKey}/${deviceName}`,
    `${sys}thing/ota/firmware/get_reply`,
  ]
  const out: Record<string, { qos: 0 | 1 }> = {}
  for (const f of filters) out[f] = { qos: 1 }
  out[`${sys}thing/config/push`] = { qos: 0 }
  return out
}
