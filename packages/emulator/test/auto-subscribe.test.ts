import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { connect, credentials, DEVICE, DN, nextMessage, PK, received } from './helpers.js'

const SET = `/sys/${PK}/${DN}/thing/service/property/set`
const POST_REPLY = `/sys/${PK}/${DN}/thing/event/property/post_reply`
const UPGRADE = `/ota/device/upgrade/${PK}/${DN}`
const NTP = `/ext/ntp/${PK}/${DN}/response`
const SENTINEL = `/${PK}/${DN}/user/sentinel`

describe('_ss=1 server-side subscription', () => {
  it('delivers system downlinks to an _ss=1 device that never subscribed', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    const seen = received(c)
    const last = nextMessage(c, NTP)
    for (const topic of [SET, POST_REPLY, UPGRADE, NTP]) await emu.publish(topic, '{}', { qos: 1 })
    await last
    expect(seen).toEqual([SET, POST_REPLY, UPGRADE, NTP])
  })

  it('delivers QoS 1 downlinks to a persistent session (cleanSession=false) and keeps it connected', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, { ...credentials({ params: { _ss: '1' } }), clean: false })
    const seen = received(c)
    const last = nextMessage(c, NTP)
    await emu.publish(SET, '{}', { qos: 1 })
    await emu.publish(UPGRADE, '{}', { qos: 1 })
    await emu.publish(NTP, '{}', { qos: 1 })
    await last
    expect(seen).toEqual([SET, UPGRADE, NTP])
    expect(c.connected).toBe(true)
    expect(emu.device(PK, DN)?.online).toBe(true)
  })

  it('delivers nothing unsubscribed to a device without _ss', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    await c.subscribeAsync(SENTINEL)
    const seen = received(c)
    const sentinel = nextMessage(c, SENTINEL)
    await emu.publish(SET, '{}')
    await emu.publish(UPGRADE, '{}', { qos: 1 })
    await emu.publish(SENTINEL, 'end')
    await sentinel
    expect(seen).toEqual([SENTINEL])
  })

  it('stops delivering auto-subscribed topics after UNSUBSCRIBE, including narrower filters', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    await c.unsubscribeAsync(`/sys/${PK}/${DN}/thing/event/+/post_reply`)
    await c.unsubscribeAsync(UPGRADE)
    const seen = received(c)
    const last = nextMessage(c, NTP)
    for (const topic of [POST_REPLY, UPGRADE, SET, NTP]) await emu.publish(topic, '{}')
    await last
    expect(seen).toEqual([SET, NTP])
  })

  it('delivers once when an _ss=1 device also subscribes explicitly', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    await c.subscribeAsync(`/sys/${PK}/${DN}/thing/service/+`, { qos: 1 })
    const seen = received(c)
    const last = nextMessage(c, NTP)
    await emu.publish(SET, '{}', { qos: 1 })
    await emu.publish(NTP, '{}')
    await last
    expect(seen).toEqual([SET, NTP])
  })

  it('does not echo a device its own uplinks on system topics', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    await c.subscribeAsync(`/sys/${PK}/${DN}/#`)
    const seen = received(c)
    await c.publishAsync(`/sys/${PK}/${DN}/thing/event/property/post`, '{}', { qos: 1 })
    const last = nextMessage(c, NTP)
    await emu.publish(NTP, '{}')
    await last
    expect(seen).toEqual([NTP])
  })

  it('keeps custom topics out of the auto-subscription', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ params: { _ss: '1' } }))
    const seen = received(c)
    const last = nextMessage(c, NTP)
    await emu.publish(`/${PK}/${DN}/user/get`, '{}')
    await emu.publish(NTP, '{}')
    await last
    expect(seen).toEqual([NTP])
  })
})
