import type { IClientOptions } from 'mqtt'
import { credentials } from './helpers.js'
import { hmacHex, passwordContent } from './signing.js'

/**
 * Two devices and the clientId theft of issue 10, finding 2: device A, with its own valid
 * credentials, over device B's clientId (the session-takeover and scale-out client-id tests).
 */
export const A = {
  productKey: 'a1DeviceA001',
  deviceName: 'device-a',
  deviceSecret: 'secret-a-0000000000000000000000',
}
export const B = {
  productKey: 'a1DeviceB001',
  deviceName: 'device-b',
  deviceSecret: 'secret-b-0000000000000000000000',
}
export const SET_B = `/sys/${B.productKey}/${B.deviceName}/thing/service/property/set`

export const own = (d: typeof A): IClientOptions => ({ ...credentials(d), clean: false })

/** A's username and a valid signature for A, over B's clientId: the clientId base is not bound to a device. */
export function aWithClientIdOf(victim: IClientOptions): IClientOptions {
  const clientId = victim.clientId ?? ''
  const base = clientId.slice(0, clientId.indexOf('|'))
  const timestamp = /[|,]timestamp=(\d+)/.exec(clientId)?.[1]
  const content = passwordContent({
    clientId: base,
    deviceName: A.deviceName,
    productKey: A.productKey,
    timestamp,
  })
  return {
    clientId,
    username: `${A.deviceName}&${A.productKey}`,
    password: hmacHex('hmacsha256', A.deviceSecret, content),
    clean: false,
  }
}
