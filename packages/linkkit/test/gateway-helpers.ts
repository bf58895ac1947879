import { Emulator, type EmulatorOptions } from '@linkkit/emulator'
import { type Device, linkkit, type SubDevice, type SubDeviceEvents } from '../src/index.js'

export const LAMP_TSL = new URL('../../../examples/lamp.tsl.json', import.meta.url).pathname
export const GW = { productKey: 'a1Gateway01', deviceName: 'gw-0001', deviceSecret: 'g'.repeat(32) }
export const SUB_PK = 'a1SubLamp01'

export function sub(i: number) {
  return {
    productKey: SUB_PK,
    deviceName: `lamp-${String(i).padStart(4, '0')}`,
    deviceSecret: `s${i}`.padEnd(32, 'x'),
  }
}

export const identity = ({ productKey, deviceName }: { productKey: string; deviceName: string }) => ({
  productKey,
  deviceName,
})

/** An emulator knowing the gateway (of a gateway product) and `count` sub-devices (with secrets) of a product with the lamp TSL. */
export function startEmulator(count: number, options: EmulatorOptions = {}): Promise<Emulator> {
  return Emulator.start({
    devices: [GW, ...Array.from({ length: count }, (_, i) => sub(i + 1))],
    requestTimeoutMs: 2000,
    // Gateway flows are chains of small packets (replies after PUBACKs and SUBACKs); with Nagle's
    // algorithm on, some wait ~40 ms for a delayed ACK. These tests are about the flows, not TCP.
    noDelay: true,
    ...options,
    // Only a gateway may register sub-devices.
    products: [
      { productKey: GW.productKey, nodeType: 'gateway' },
      ...(options.products ?? [{ productKey: SUB_PK, thingModel: LAMP_TSL }]),
    ],
  })
}

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

/** Resolves with the argument of the next `event` the sub-device emits. */
export function next<E extends keyof SubDeviceEvents>(
  sd: SubDevice,
  event: E,
): Promise<Parameters<SubDeviceEvents[E]>[0]> {
  return new Promise((resolve) => {
    const once = sd.once.bind(sd) as (
      event: E,
      listener: (arg: Parameters<SubDeviceEvents[E]>[0]) => void,
    ) => unknown
    once(event, resolve)
  })
}
