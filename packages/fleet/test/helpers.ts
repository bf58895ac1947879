import { Emulator, type EmulatorOptions } from '@linkkit/emulator'
import { LAMP_TSL } from '@linkkit/testing/emulator'
import type { DeviceTriple } from '../src/index.js'

export { LAMP_TSL }
export const PK = 'a1FleetLamp1'

/** `count` triples of the lamp product. */
export function triples(count: number, prefix = 'lamp-'): DeviceTriple[] {
  return Array.from({ length: count }, (_, i) => ({
    productKey: PK,
    deviceName: `${prefix}${i}`,
    deviceSecret: `fleet-secret-${i}`.padEnd(32, 'x'),
  }))
}

/** An emulator that knows the devices, with the lamp TSL for their product. */
export function startEmulator(
  devices: readonly DeviceTriple[],
  options: EmulatorOptions = {},
): Promise<Emulator> {
  return Emulator.start({
    devices,
    products: [{ productKey: PK, thingModel: LAMP_TSL }],
    requestTimeoutMs: 5000,
    ...options,
  })
}

/** Resolves once `check` holds, checking every 25 ms; rejects with `what` after `timeoutMs`. */
export async function until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}
