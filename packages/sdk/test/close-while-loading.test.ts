import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { type Device, FilePersistence, isLinkkitError, type LinkkitOptions, linkkit } from '../src/index.js'

/**
 * MQTT.js and got are imported on first use (connect, registration), so a `close()` can land
 * while they load, or anywhere else in `connect()`. Whatever the moment, the device must not
 * connect (nor register) afterwards, `connect()` must reject `ERR_CLOSED`, and nothing may throw
 * unheard. Each case closes after 0…N turns of the event loop's microtask queue, which walks the
 * close across every await of connect(), the lazy imports included.
 */

const device = {
  productKey: 'a1CloseLoad1',
  deviceName: 'close-load-1',
  deviceSecret: '00112233445566778899aabbccddeeff',
}
const probe = {
  productKey: 'a1CloseLoad1',
  deviceName: 'probe-1',
  deviceSecret: 'ffeeddccbbaa99887766554433221100',
}
const productSecret = 'ps-close-load-0001'
const dynamic = { productKey: 'a1CloseDyn01', productSecret, dynamicRegistration: true }

let unhandled: unknown[] = []
const onUnhandled = (reason: unknown) => unhandled.push(reason)
beforeEach(() => {
  unhandled = []
  process.on('unhandledRejection', onUnhandled)
})
afterEach(() => {
  process.off('unhandledRejection', onUnhandled)
})

/** Lets `turns` microtasks run (each await of connect() takes at least one). */
async function microtasks(turns: number): Promise<void> {
  for (let i = 0; i < turns; i++) await Promise.resolve()
}

/**
 * A barrier after close() and after connect() settled (so the registration and both lazy imports
 * did too): the loop turns, and a probe device connects (MQTT.js is loaded by then) and is seen
 * online. A connection the closed device had opened would have reached the broker before the probe's.
 */
async function barrier(emu: Emulator): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve))
  const online = new Promise<void>((resolve) =>
    emu.on('device:online', (info) => {
      if (info.deviceName === probe.deviceName) resolve()
    }),
  )
  const p = await linkkit.open({ ...probe, brokerUrl: emu.mqttUrl }).connect()
  await online
  await p.close()
}

/** Opens, connects, closes after `turns` microtasks; returns what connect() settled with and what the device emitted. */
async function closeDuringConnect(options: LinkkitOptions, turns: number) {
  const d: Device = linkkit.open(options)
  const events: string[] = []
  for (const event of ['connected', 'registered', 'error'] as const) d.on(event, () => events.push(event))
  const connecting = d.connect().then(
    () => 'connected' as const,
    (error: unknown) => error,
  )
  await microtasks(turns)
  await d.close()
  return { outcome: await connecting, events, device: d }
}

const TURNS = [0, 1, 2, 3, 5, 8, 13, 21, 34, 55]

describe('close() while connect() loads MQTT.js or got', () => {
  it('with a device secret: never connects after close, connect() rejects ERR_CLOSED, nothing unheard', async () => {
    await using emu = await Emulator.start({ devices: [device, probe] })
    const dir = await mkdtemp(join(tmpdir(), 'linkkit-close-load-'))
    try {
      const onlines: string[] = []
      emu.on('device:online', (info) => onlines.push(info.deviceName))
      for (const turns of TURNS) {
        // A persistence with boot state makes fota.start() do file I/O inside connect() too.
        const persistence = new FilePersistence({ path: join(dir, 'app.bin'), keepPrevious: true })
        const {
          outcome,
          events,
          device: d,
        } = await closeDuringConnect(
          { ...device, brokerUrl: emu.mqttUrl, firmware: { version: '1.0.0', persistence } },
          turns,
        )
        expect(isLinkkitError(outcome, 'ERR_CLOSED'), `${turns} turns: ${String(outcome)}`).toBe(true)
        await barrier(emu)
        expect(
          onlines.filter((name) => name === device.deviceName),
          `${turns} turns`,
        ).toEqual([])
        expect(events, `${turns} turns`).toEqual([])
        expect(d.connected).toBe(false)
      }
      expect(unhandled).toEqual([])
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('with dynamic registration: never registers nor connects after close', async () => {
    await using emu = await Emulator.start({ products: [dynamic], devices: [probe] })
    const registered: string[] = []
    const onlines: string[] = []
    emu.on('device:registered', (info) => registered.push(info.deviceName))
    emu.on('device:online', (info) => onlines.push(info.deviceName))
    for (const turns of TURNS) {
      const deviceName = `dyn-${turns}`
      const { outcome, events } = await closeDuringConnect(
        {
          productKey: dynamic.productKey,
          deviceName,
          productSecret,
          dynamicRegister: true,
          brokerUrl: emu.mqttUrl,
          register: { registerUrl: emu.httpUrl, allowHttp: true },
        },
        turns,
      )
      expect(isLinkkitError(outcome, 'ERR_CLOSED'), `${turns} turns: ${String(outcome)}`).toBe(true)
      await barrier(emu)
      expect(
        onlines.filter((name) => name === deviceName),
        `${turns} turns`,
      ).toEqual([])
      expect(
        events.filter((e) => e !== 'registered'),
        `${turns} turns`,
      ).toEqual([])
    }
    // A registration may have been under way when close() came (the HTTP request cannot be
    // unsent), but no device went on to connect with its secret.
    expect(unhandled).toEqual([])
    expect(registered.length).toBeLessThanOrEqual(TURNS.length)
  })
})
