import { describe, expect, it } from 'vitest'
import { Emulator, filterWithin, TopicAcl } from '../src/index.js'
import {
  closed,
  connect,
  credentials,
  DEVICE,
  DN,
  nextMessage,
  OTHER,
  PK,
  received,
  suback,
} from './helpers.js'

const other = credentials({
  productKey: OTHER.productKey,
  deviceName: OTHER.deviceName,
  deviceSecret: OTHER.deviceSecret,
})

describe('topic ACL', () => {
  it('refuses wildcard subscriptions that could match another device (SUBACK 128), grants its own', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    const filters: Record<string, 0 | 1> = {
      '/sys/+/+/#': 1,
      '#': 0,
      [`/sys/${PK}/${DN}/thing/service/+`]: 1,
      [`/sys/${PK}/${DN}/thing/config/#`]: 1,
      [`/ota/device/upgrade/${PK}/${DN}`]: 1,
      [`/${PK}/${DN}/user/#`]: 0,
      [`/sys/${OTHER.productKey}/${OTHER.deviceName}/thing/service/property/set`]: 0,
    }
    const codes: Record<string, number | undefined> = {}
    for (const [filter, qos] of Object.entries(filters)) codes[filter] = await suback(c, filter, qos)
    expect(codes).toEqual({
      '/sys/+/+/#': 128,
      '#': 128,
      [`/sys/${PK}/${DN}/thing/service/+`]: 1,
      [`/sys/${PK}/${DN}/thing/config/#`]: 1,
      [`/ota/device/upgrade/${PK}/${DN}`]: 1,
      [`/${PK}/${DN}/user/#`]: 0,
      [`/sys/${OTHER.productKey}/${OTHER.deviceName}/thing/service/property/set`]: 128,
    })
  })

  it('delivers downlinks on an own wildcard subscription', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    await c.subscribeAsync(`/sys/${PK}/${DN}/thing/service/+`, { qos: 1 })
    const message = nextMessage(c)
    await emu.publish(`/sys/${PK}/${DN}/thing/service/wakeup`, '{"id":"1"}', { qos: 1 })
    expect((await message).topic).toBe(`/sys/${PK}/${DN}/thing/service/wakeup`)
  })

  it('disconnects a device publishing to another device topic and never delivers it', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE, OTHER] })
    const uplinks: string[] = []
    emu.onUplink('#', (ctx) => void uplinks.push(ctx.topic))
    const victim = await connect(emu.mqttUrl, other)
    const victimTopic = `/${OTHER.productKey}/${OTHER.deviceName}/user/data`
    await victim.subscribeAsync(victimTopic, { qos: 1 })
    const seen = received(victim)

    const attacker = await connect(emu.mqttUrl, credentials())
    const gone = closed(attacker)
    attacker.publish(victimTopic, 'spoofed', { qos: 1 })
    await gone
    expect(emu.device(PK, DN)?.online).toBe(false)

    const sentinel = nextMessage(victim, victimTopic)
    await emu.publish(victimTopic, 'from the platform')
    expect((await sentinel).payload.toString()).toBe('from the platform')
    expect(seen).toEqual([victimTopic])
    expect(uplinks).toEqual([])
  })

  it('hands authorized uplinks to onUplink with the device identity', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const uplink = new Promise<unknown>((resolve) =>
      emu.onUplink('/sys/+/+/thing/event/property/post', (ctx) =>
        resolve({ ...ctx, payload: ctx.payload.toString() }),
      ),
    )
    const c = await connect(emu.mqttUrl, credentials())
    await c.publishAsync(`/sys/${PK}/${DN}/thing/event/property/post`, '{"id":"7"}', { qos: 1 })
    expect(await uplink).toMatchObject({
      productKey: PK,
      deviceName: DN,
      topic: `/sys/${PK}/${DN}/thing/event/property/post`,
      payload: '{"id":"7"}',
      qos: 1,
      clientId: credentials().clientId,
    })
  })

  it('carries a device own custom /user/ topics both ways (docs/custom-topics.md)', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials())
    const user = `/${PK}/${DN}/user`
    expect(await suback(c, `${user}/get`, 1)).toBe(1)
    expect(await suback(c, `${user}/light/+`, 1)).toBe(1)
    expect(await suback(c, `/ext/rrpc/+/${PK}/${DN}/user/#`, 0)).toBe(0)

    const down = nextMessage(c, `${user}/get`)
    await emu.publish(`${user}/get`, 'lamp on', { qos: 1 })
    expect((await down).payload.toString()).toBe('lamp on')

    const up = new Promise<string>((resolve) =>
      emu.onUplink(`${user}/#`, (ctx) =>
        resolve(`${ctx.productKey}/${ctx.deviceName} ${ctx.topic} ${ctx.payload}`),
      ),
    )
    await c.publishAsync(`${user}/update`, '{"t":21.5}', { qos: 1 })
    expect(await up).toBe(`${PK}/${DN} ${user}/update {"t":21.5}`)
    expect(emu.device(PK, DN)?.online).toBe(true)
  })

  it('lets a granted connection use another identity topics (gateway extension point)', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE, OTHER] })
    emu.acl.allow(DEVICE, OTHER)
    const gateway = await connect(emu.mqttUrl, credentials())
    const subTopic = `/sys/${OTHER.productKey}/${OTHER.deviceName}/thing/service/property/set`
    expect(await suback(gateway, subTopic, 0)).toBe(0)
    emu.acl.revoke(DEVICE, OTHER)
    expect(await suback(gateway, `/sys/${OTHER.productKey}/${OTHER.deviceName}/thing/service/+`)).toBe(128)
  })
})

describe('filterWithin', () => {
  it.each([
    ['/sys/pk/dn/thing/service/+', '/sys/pk/dn/#', true],
    ['/sys/pk/dn', '/sys/pk/dn/#', true],
    ['/sys/pk/dn/#', '/sys/pk/dn/#', true],
    ['/sys/+/dn/#', '/sys/pk/dn/#', false],
    ['/sys/pk/dn/#', '/sys/pk/dn/thing', false],
    ['/ota/device/+/pk/dn', '/ota/device/+/pk/dn', true],
    ['/ota/device/upgrade/+/+', '/ota/device/+/pk/dn', false],
    ['#', '/sys/pk/dn/#', false],
    ['/shadow/get/pk/dn/x', '/shadow/+/pk/dn', false],
  ])('%s within %s is %s', (filter, pattern, expected) => {
    expect(filterWithin(filter, pattern)).toBe(expected)
  })

  it('the ACL allows publishing only on own topics', () => {
    const acl = new TopicAcl()
    const me = { productKey: 'pk', deviceName: 'dn' }
    expect(acl.canPublish(me, '/sys/pk/dn/thing/event/property/post')).toBe(true)
    expect(acl.canPublish(me, '/ext/rrpc/123/sys/pk/dn/thing/service/x')).toBe(true)
    expect(acl.canPublish(me, '/pk/dn/user/update')).toBe(true)
    expect(acl.canPublish(me, '/sys/pk/dn2/thing/event/property/post')).toBe(false)
    expect(acl.canPublish(me, '/pk/dn/other/update')).toBe(false)
    expect(acl.canPublish(me, '$SYS/broker/x')).toBe(false)
  })
})
