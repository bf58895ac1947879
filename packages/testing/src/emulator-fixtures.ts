import { fileURLToPath } from 'node:url'
import { Emulator, type EmulatorOptions, type OtaRollout } from '@linkkit/emulator'

/** The smart-lamp TSL of the examples. */
export const LAMP_TSL = fileURLToPath(new URL('../../../examples/lamp.tsl.json', import.meta.url))
/** A gateway device (of a gateway product, see `startEmulator`). */
export const GW = { productKey: 'a1Gateway01', deviceName: 'gw-0001', deviceSecret: 'g'.repeat(32) }
/** The product of the sub-devices `sub(i)`, with the lamp TSL. */
export const SUB_PK = 'a1SubLamp01'

/** Sub-device number `i` (1-based), with its secret. */
export function sub(i: number) {
  return {
    productKey: SUB_PK,
    deviceName: `lamp-${String(i).padStart(4, '0')}`,
    deviceSecret: `s${i}`.padEnd(32, 'x'),
  }
}

/** Just the identity of a device. */
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

/** Resolves with the rollout once `check` holds for it, as `emu` holds it now or at one of its events. */
export function rolloutWhere(
  emu: Emulator,
  id: string,
  check: (r: OtaRollout) => boolean,
): Promise<OtaRollout> {
  return new Promise((resolve) => {
    const listener = (r: OtaRollout) => {
      if (r.id !== id || !check(r)) return
      emu.ota.off('ota:rollout', listener)
      resolve(r)
    }
    emu.ota.on('ota:rollout', listener)
    const now = emu.ota.rollouts.get(id)
    if (now !== undefined) listener(now)
  })
}
