import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { type DeviceSnapshot, Emulator } from '@linkkit/emulator'
import { type Device, type LinkkitError, type LinkkitOptions, linkkit } from '../src/index.js'

export const LAMP_TSL = fileURLToPath(new URL('../../../examples/lamp.tsl.json', import.meta.url))
export const LAMP_DOCUMENT = JSON.parse(readFileSync(LAMP_TSL, 'utf8')) as Record<string, unknown>

/** The lamp TSL's own product key, so the emulator's product and the device agree. */
export const PK = 'a1LampDemo0'
export const DN = 'lamp-001'
export const SYS = `/sys/${PK}/${DN}`
const SECRET = '0123456789abcdef0123456789abcdef'

export interface LampOptions {
  /** Give the emulator's product the lamp TSL, so the "cloud" checks what it sends and receives. @default true */
  cloudTsl?: boolean
  /** Overrides of `linkkit.open()` options (thingModel defaults to the TSL file path). */
  open?: Partial<LinkkitOptions>
}

/** A connected lamp through the public facade against a fresh emulator, and what both sides saw. */
export interface Lamp extends AsyncDisposable {
  emu: Emulator
  device: Device
  /** Every `error` event of the device, in order. */
  errors: LinkkitError[]
  /** Topics of every message the device received. */
  received: string[]
  /** Topics of every publish the emulator accepted from the device. */
  uplinks: string[]
  /** `emu.device(PK, DN)`, which exists for the whole test. */
  snapshot(): DeviceSnapshot
}

export async function lamp(options: LampOptions = {}): Promise<Lamp> {
  const emu = await Emulator.start({
    devices: [{ productKey: PK, deviceName: DN, deviceSecret: SECRET }],
    products: options.cloudTsl === false ? [] : [{ productKey: PK, thingModel: LAMP_TSL }],
  })
  const uplinks: string[] = []
  emu.onUplink('#', (ctx) => {
    uplinks.push(ctx.topic)
  })
  const device = linkkit.open({
    productKey: PK,
    deviceName: DN,
    deviceSecret: SECRET,
    brokerUrl: emu.mqttUrl,
    thingModel: LAMP_TSL,
    requestTimeoutMs: 2000,
    ...options.open,
  })
  const errors: LinkkitError[] = []
  const received: string[] = []
  device.on('error', (error) => errors.push(error))
  device.on('message', (topic) => received.push(topic))
  try {
    await device.connect()
  } catch (error) {
    await device.close()
    await emu.close()
    throw error
  }
  return {
    emu,
    device,
    errors,
    received,
    uplinks,
    snapshot: () => {
      const snapshot = emu.device(PK, DN)
      if (snapshot === undefined) throw new Error('the emulator forgot the device')
      return snapshot
    },
    async [Symbol.asyncDispose]() {
      await device.close()
      await emu.close()
    },
  }
}

/** The rejection of `promise` (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<LinkkitError> {
  return promise.then(
    (value) => {
      throw new Error(`expected a rejection, got ${JSON.stringify(value)}`)
    },
    (error: unknown) => error as LinkkitError,
  )
}
