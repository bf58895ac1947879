import type { Emulator } from '@linkkit/emulator'
import { GW } from '@linkkit/testing/emulator'
import { type Device, linkkit } from '../src/index.js'

export { GW, startEmulator, sub } from '@linkkit/testing/emulator'

/**
 * A connected gateway device with fast reconnects and short request timeouts. `subdevices` is
 * touched before `connect()`, as an application does, so the notice topics are subscribed by then.
 */
export async function gateway(emu: Emulator): Promise<Device> {
  const gw = linkkit.open({
    ...GW,
    brokerUrl: emu.mqttUrl,
    requestTimeoutMs: 2000,
    reconnect: { initialDelayMs: 20, maxDelayMs: 100 },
  })
  void gw.subdevices
  return gw.connect()
}
