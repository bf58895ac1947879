import { Emulator, type UplinkContext } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import { type Device, type LinkkitOptions, linkkit, MemoryPersistence } from '../src/index.js'
import { GW, gateway, startEmulator, sub } from './gateway-helpers.js'

const device = {
  productKey: 'a1QosLamp01',
  deviceName: 'qos-lamp-1',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const tsl = new URL('../../../examples/lamp.tsl.json', import.meta.url).pathname

/** The QoS each uplink had on the wire, by topic tail (`thing/event/property/post`, `ota/inform`…). */
function qosByTopic(uplinks: UplinkContext[]): Record<string, number[]> {
  const out: Record<string, number[]> = {}
  for (const { topic, qos } of uplinks) {
    const tail = topic.startsWith('/sys/')
      ? topic.split('/').slice(4).join('/')
      : topic.startsWith('/ota/')
        ? `ota/${topic.split('/')[3]}`
        : topic
    out[tail] ??= []
    out[tail].push(qos)
  }
  return out
}

async function open(emu: Emulator, extra: Partial<LinkkitOptions> = {}): Promise<Device> {
  return linkkit
    .open({
      ...device,
      brokerUrl: emu.mqttUrl,
      thingModel: tsl,
      requestTimeoutMs: 3000,
      firmware: { version: '1.0.0', persistence: new MemoryPersistence() },
      ...extra,
    })
    .connect()
}

/** Every Alink request the device makes, plus a progress report and a version inform. */
async function everything(d: Device): Promise<void> {
  expect((await d.postProperties({ LightSwitch: 1 })).code).toBe(200)
  expect((await d.postEvent('lowpower', { power: 10 })).code).toBe(200)
  await d.thing.getDesired(['LightSwitch'])
  await d.thing.updateTags([{ attrKey: 'room', attrValue: 'hall' }])
  expect(Buffer.from(await d.thing.postRaw(Uint8Array.of(1, 2, 3)))).toEqual(Buffer.from([1, 2, 3]))
  expect(await d.fota.request()).toBeUndefined()
  await d.fota.requestConfig()
  await d.fota.reportProgress(50, 'half way')
  await d.fota.reportVersion('1.0.1')
}

describe('QoS on the wire, as the C SDK sends (seen by the emulator)', () => {
  it('Alink requests go at QoS 0; version informs at QoS 1, progress at QoS 0', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const uplinks: UplinkContext[] = []
    emu.onUplink('#', (ctx) => void uplinks.push(ctx))
    await using d = await open(emu)
    await everything(d)
    await expect.poll(() => uplinks.filter((u) => u.topic.includes('/inform/')).length).toBe(2)
    expect(qosByTopic(uplinks)).toEqual({
      'ota/inform': [1, 1],
      'thing/event/property/post': [0],
      'thing/event/lowpower/post': [0],
      'thing/property/desired/get': [0],
      'thing/deviceinfo/update': [0],
      'thing/model/up_raw': [0],
      'thing/ota/firmware/get': [0],
      'thing/config/get': [0],
      'ota/progress': [0],
    })
  })

  it('alinkQos: 1 moves the requests to QoS 1 and a call can still pick QoS 0; informs and progress keep theirs', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const uplinks: UplinkContext[] = []
    emu.onUplink('#', (ctx) => void uplinks.push(ctx))
    await using d = await open(emu, { alinkQos: 1 })
    await everything(d)
    await d.postProperties({ LightSwitch: 0 }, { qos: 0 })
    await d.thing.postRaw(Uint8Array.of(4), { qos: 0 })
    await expect.poll(() => uplinks.filter((u) => u.topic.includes('/inform/')).length).toBe(2)
    expect(qosByTopic(uplinks)).toEqual({
      'ota/inform': [1, 1],
      'thing/event/property/post': [1, 0],
      'thing/event/lowpower/post': [1],
      'thing/property/desired/get': [1],
      'thing/deviceinfo/update': [1],
      'thing/model/up_raw': [1, 0],
      'thing/ota/firmware/get': [1],
      'thing/config/get': [1],
      'ota/progress': [0],
    })
  })

  it('a call asks for QoS 1 with { qos: 1 }; anything else is refused before it is sent', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const posts: number[] = []
    emu.onUplink('/sys/+/+/thing/event/property/post', ({ qos }) => void posts.push(qos))
    await using d = await open(emu)
    await d.postProperties({ LightSwitch: 1 }, { qos: 1 })
    await d.postProperties({ LightSwitch: 0 })
    const bad = await d.postProperties({ LightSwitch: 0 }, { qos: 2 as 0 }).catch((e: unknown) => e)
    expect(bad).toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    expect(posts).toEqual([1, 0])
  })

  it('gateway requests follow alinkQos; sub-device logins stay at QoS 0 as the platform requires', async () => {
    for (const alinkQos of [0, 1] as const) {
      await using emu = await startEmulator(1)
      const seen: Array<[string, number]> = []
      emu.onUplink('/sys/+/+/thing/topo/add', ({ qos }) => void seen.push(['topo/add', qos]))
      emu.onUplink('/ext/session/+/+/combine/login', ({ qos }) => void seen.push(['login', qos]))
      emu.onUplink(`/sys/${sub(1).productKey}/+/thing/event/property/post`, ({ qos }) => {
        seen.push(['sub post', qos])
      })
      const gw = linkkit.open({ ...GW, brokerUrl: emu.mqttUrl, requestTimeoutMs: 2000, alinkQos })
      void gw.subdevices
      await gw.connect()
      try {
        const lamp = gw.subdevices.open(sub(1))
        await lamp.connect()
        expect((await lamp.postProperties({ Brightness: 5 })).code).toBe(200)
        expect(seen).toEqual([
          ['topo/add', alinkQos],
          ['login', 0],
          ['sub post', alinkQos],
        ])
      } finally {
        await gw.close()
      }
    }
    // the helper's gateway has the default: QoS 0 for everything Alink
    await using emu = await startEmulator(1)
    await using gw = await gateway(emu)
    expect(gw.connection.options.alinkQos).toBe(0)
  })
})
