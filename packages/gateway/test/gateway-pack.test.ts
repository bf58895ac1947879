import { describe, expect, it } from 'vitest'
import { GW, gateway, identity, LAMP_TSL, startEmulator, sub } from './helpers.js'

describe('gateway pack post (thing.event.property.pack.post)', () => {
  it('posts the gateway and several sub-devices in one message; the platform stores each device', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const [a, b] = [gw.subdevices.open({ ...sub(1), thingModel: LAMP_TSL }), gw.subdevices.open(sub(2))]
    await gw.subdevices.connectAll()
    let messages = 0
    emu.onUplink('/sys/+/+/thing/event/property/pack/post', () => void messages++)
    const reply = await gw.subdevices.postPack({
      properties: { Uptime: 12 },
      subDevices: [
        { subDevice: a, properties: { Brightness: 10 }, events: { lowpower: { power: 3 } } },
        { subDevice: identity(sub(2)), properties: { Brightness: { value: 20, time: 1_700_000_000_000 } } },
      ],
    })
    expect(reply.code).toBe(200)
    expect(messages).toBe(1)
    expect(emu.device(GW.productKey, GW.deviceName)?.properties?.Uptime?.value).toBe(12)
    expect(emu.device(a.productKey, a.deviceName)?.properties?.Brightness?.value).toBe(10)
    expect(emu.device(a.productKey, a.deviceName)?.events?.at(-1)).toMatchObject({ identifier: 'lowpower' })
    expect(emu.device(b.productKey, b.deviceName)?.properties?.Brightness).toMatchObject({
      value: 20,
      time: 1_700_000_000_000,
    })
    await expect(
      gw.subdevices.postPack({ subDevices: [{ subDevice: a, properties: { Brightness: 101 } }] }),
    ).rejects.toMatchObject({ code: 'ERR_TSL_VALIDATION' })
  })

  it('refuses packs beyond 20 sub-devices, 200 properties or 20 events before sending', async () => {
    await using emu = await startEmulator(21)
    await using gw = await gateway(emu)
    let messages = 0
    emu.onUplink('/sys/+/+/thing/event/property/pack/post', () => void messages++)
    const many = Array.from({ length: 21 }, (_, i) => ({
      subDevice: identity(sub(i + 1)),
      properties: { n: i },
    }))
    await expect(gw.subdevices.postPack({ subDevices: many })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_LIMIT',
      details: { what: 'sub-devices', max: 20 },
    })
    const props = Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`p${i}`, i]))
    await expect(
      gw.subdevices.postPack({
        properties: props,
        subDevices: [{ subDevice: identity(sub(1)), properties: props }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_SUBDEVICE_LIMIT', details: { what: 'properties', count: 202 } })
    const events = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`e${i}`, { v: i }]))
    await expect(gw.subdevices.postPack({ events })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_LIMIT',
      details: { what: 'events' },
    })
    expect(messages).toBe(0)
  })

  it('a sub-device in the pack must be logged in: refused locally when opened here, 520 from the platform otherwise', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const idle = gw.subdevices.open(sub(1))
    await expect(
      gw.subdevices.postPack({ subDevices: [{ subDevice: idle, properties: { Brightness: 1 } }] }),
    ).rejects.toMatchObject({ code: 'ERR_SUBDEVICE_NOT_LOGGED_IN' })
    await expect(
      gw.subdevices.postPack({
        subDevices: [{ subDevice: identity(sub(2)), properties: { Brightness: 1 } }],
      }),
    ).rejects.toMatchObject({ code: 'ERR_REPLY', replyCode: 520 })
  })
})
