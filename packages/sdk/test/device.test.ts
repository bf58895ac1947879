import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import { isLinkkitError, linkkit, MemoryPersistence } from '../src/index.js'

const device = {
  productKey: 'a1B2c3D4e5F',
  deviceName: 'device001',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const tsl = new URL('../../../examples/lamp.tsl.json', import.meta.url).pathname

describe('linkkit.open()', () => {
  it('creates a device without I/O and validates options with coded errors', () => {
    expect(() => linkkit.open({ productKey: 'a1B2c3D4e5F', deviceName: 'x' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(() => linkkit.open({ ...device, deviceName: 'a+b' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_TOPIC_VALUE' }),
    )
    expect(() => linkkit.open({ ...device, thingModel: { properties: 'none' } })).toThrow(
      expect.objectContaining({ code: 'ERR_TSL_INVALID' }),
    )
    // Issue 12: open() reads no file; a TSL path is loaded by connect().
    const missing = linkkit.open({ ...device, thingModel: '/nonexistent.json' })
    expect(missing.thingModel).toBeUndefined()
    const d = linkkit.open({ ...device, thingModel: tsl })
    expect(d.connected).toBe(false)
    expect(d.thingModel).toBeUndefined()
  })

  it('reads a TSL file at connect(): an unreadable or malformed one rejects ERR_TSL_INVALID before any I/O to the broker', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const connects: string[] = []
    emu.on('device:online', (info) => connects.push(info.deviceName))
    for (const thingModel of ['/nonexistent.json', new URL(import.meta.url)]) {
      await using d = linkkit.open({ ...device, brokerUrl: emu.mqttUrl, thingModel })
      const error = await d.connect().catch((e: unknown) => e)
      expect(error).toMatchObject({ code: 'ERR_TSL_INVALID' })
      expect(d.connected).toBe(false)
      expect(d.thingModel).toBeUndefined()
    }
    await using d = await linkkit.open({ ...device, brokerUrl: emu.mqttUrl, thingModel: tsl }).connect()
    expect(d.thingModel?.hasService('wakeup')).toBe(true)
    expect(connects).toEqual([device.deviceName])
  })

  it('connect() chains and resolves with the device; events and posts flow through the facade', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const d = await linkkit
      .open({
        ...device,
        brokerUrl: emu.mqttUrl,
        thingModel: tsl,
        firmware: { version: '1.0.0', persistence: new MemoryPersistence() },
      })
      .connect()
    try {
      expect(d.connected).toBe(true)
      await expect.poll(() => emu.device(device.productKey, device.deviceName)?.online).toBe(true)
      const reply = await d.postProperties({ LightSwitch: 1 })
      expect(reply.code).toBe(200)
      const invalid = await d.postProperties({ LightSwitch: 7 }).catch((e: unknown) => e)
      expect(isLinkkitError(invalid, 'ERR_TSL_VALIDATION')).toBe(true)
    } finally {
      await d.close()
      await d.close()
    }
    expect(d.connected).toBe(false)
  })

  it('registers dynamically at connect() and emits the secret', async () => {
    const productSecret = 'ps-facade-0001'
    await using emu = await Emulator.start({
      products: [{ productKey: 'a1DynFacade1', productSecret, dynamicRegistration: true }],
    })
    const d = linkkit.open({
      productKey: 'a1DynFacade1',
      deviceName: 'fresh-001',
      productSecret,
      dynamicRegister: true,
      brokerUrl: emu.mqttUrl,
      register: { registerUrl: emu.httpUrl, allowHttp: true },
    })
    const secrets: string[] = []
    d.on('registered', (r) => secrets.push(r.deviceSecret))
    expect(() => d.connection).toThrow(expect.objectContaining({ code: 'ERR_NOT_CONNECTED' }))
    await d.connect()
    expect(secrets).toHaveLength(1)
    expect(d.connected).toBe(true)
    await d.close()
  })
})
