import { describe, expect, it } from 'vitest'
import type { DeviceConnectionInfo } from '../src/index.js'
import {
  addAndLogin,
  GW,
  gatewayClient,
  id,
  loginParams,
  request,
  SUB_PK,
  session,
  signed,
  startEmulator,
  sub,
  sys,
} from './gateway-helpers.js'
import { closed, nextMessage, received, suback } from './helpers.js'

describe('emulator gateway: sub-device sessions', () => {
  it('combine.login refuses 6401 outside the topology, 6287 on a bad sign, 522 disabled; success brings the sub-device online', async () => {
    await using emu = await startEmulator(2)
    const gw = await gatewayClient(emu)
    const online: DeviceConnectionInfo[] = []
    emu.on('device:online', (info) => void online.push(info))
    expect(await request(gw, session('login'), loginParams(sub(1)))).toMatchObject({ code: 6401 })
    expect((await request(gw, sys(GW, 'thing/topo/add'), [signed(sub(1)), signed(sub(2))])).code).toBe(200)
    expect(await request(gw, session('login'), loginParams(sub(1), 'wrong'))).toMatchObject({ code: 6287 })
    emu.setDisabled(SUB_PK, sub(2).deviceName, true)
    expect(await request(gw, session('login'), loginParams(sub(2)))).toMatchObject({ code: 522 })
    expect(await request(gw, session('login'), { productKey: SUB_PK })).toMatchObject({ code: 460 })

    expect(await request(gw, session('login'), loginParams(sub(1)))).toMatchObject({
      code: 200,
      data: id(sub(1)),
    })
    expect(emu.device(SUB_PK, sub(1).deviceName)).toMatchObject({ online: true, connectCount: 1 })
    expect(online.map((i) => i.deviceName)).toEqual(['sub-1'])
    expect(emu.gateway.loggedIn(GW)).toEqual([id(sub(1))])
  })

  it('combine.batch_login is all or nothing (failures listed), at most 50; 428 past the online limit', async () => {
    await using emu = await startEmulator(3)
    const gw = await gatewayClient(emu)
    await request(gw, sys(GW, 'thing/topo/add'), [signed(sub(1)), signed(sub(2))])
    const list = (subs: ReturnType<typeof sub>[]) => ({
      signMethod: 'hmacSha256',
      deviceList: subs.map((s) => {
        const { signMethod: _, ...entry } = loginParams(s)
        return entry
      }),
    })
    const refused = await request(gw, session('batch_login'), list([sub(1), sub(2), sub(3)]))
    expect(refused).toMatchObject({ code: 6401, data: [{ ...id(sub(3)), code: 6401 }] })
    expect(emu.gateway.loggedIn(GW)).toEqual([])
    const tooMany = await request(gw, session('batch_login'), list(Array.from({ length: 51 }, () => sub(1))))
    expect(tooMany.code).toBe(460)
    emu.gateway.setLimits({ maxOnline: 1 })
    expect((await request(gw, session('batch_login'), list([sub(1), sub(2)]))).code).toBe(428)
    emu.gateway.setLimits({ maxOnline: 10 })
    expect(await request(gw, session('batch_login'), list([sub(1), sub(2)]))).toMatchObject({
      code: 200,
      data: [id(sub(1)), id(sub(2))],
    })
    expect(emu.gateway.loggedIn(GW)).toHaveLength(2)
  })

  it('logout answers 520 without a session; batch_logout ends several; the gateway going offline ends them all', async () => {
    await using emu = await startEmulator(3)
    const gw = await gatewayClient(emu)
    await addAndLogin(gw, [sub(1), sub(2), sub(3)])
    expect((await request(gw, session('logout'), id(sub(1)))).code).toBe(200)
    expect(await request(gw, session('logout'), id(sub(1)))).toMatchObject({ code: 520 })
    expect(await request(gw, session('batch_logout'), [id(sub(1)), id(sub(2))])).toMatchObject({
      code: 520,
      data: [{ ...id(sub(1)), code: 520 }],
    })
    expect((await request(gw, session('batch_logout'), [id(sub(2))])).code).toBe(200)
    expect(emu.gateway.loggedIn(GW)).toEqual([id(sub(3))])
    const offline = new Promise<DeviceConnectionInfo>((resolve) =>
      emu.on('device:offline', (info) => info.deviceName === 'sub-3' && resolve(info)),
    )
    emu.kick(GW.productKey, GW.deviceName)
    expect(await offline).toMatchObject(id(sub(3)))
    expect(emu.device(SUB_PK, 'sub-3')?.online).toBe(false)
  })

  it("carries a sub-device's topics only while it is logged in; 520 for a request without a session", async () => {
    await using emu = await startEmulator(2)
    const gw = await gatewayClient(emu)
    const post = sys(sub(1), 'thing/event/property/post')
    // Not in the topology: the sub-device's topics are not the gateway's.
    expect(await suback(gw, sys(sub(1), 'thing/service/+'))).toBe(128)
    await request(gw, sys(GW, 'thing/topo/add'), [signed(sub(1))])
    expect(await suback(gw, sys(sub(1), 'thing/service/+'))).toBe(1)
    const topics = received(gw)
    await emu.publish(sys(sub(1), 'thing/service/wakeup'), '{"id":"1","version":"1.0","params":{}}')
    expect(await request(gw, post, { Brightness: 1 })).toMatchObject({
      code: 520,
      message: 'device no session',
    })
    expect(topics.filter((t) => t.endsWith('/wakeup'))).toEqual([])
    expect(emu.device(SUB_PK, 'sub-1')?.properties).toEqual({})

    expect((await request(gw, session('login'), loginParams(sub(1)))).code).toBe(200)
    const wakeup = nextMessage(gw, sys(sub(1), 'thing/service/wakeup'))
    await emu.publish(sys(sub(1), 'thing/service/wakeup'), '{"id":"2","version":"1.0","params":{}}')
    expect(JSON.parse((await wakeup).payload.toString())).toMatchObject({ id: '2' })
    expect(await request(gw, post, { Brightness: 2 })).toMatchObject({ code: 200 })
    expect(emu.device(SUB_PK, 'sub-1')?.properties?.Brightness?.value).toBe(2)

    // A device outside the topology is someone else's: the platform closes the connection.
    const gone = closed(gw)
    await gw.publishAsync(sys(sub(2), 'thing/event/property/post'), '{"id":"3","params":{}}', { qos: 0 })
    await gone
  })

  it('pack post: stored per device; 20 sub-devices, 200 properties, 20 events at most; 520 for one not logged in', async () => {
    await using emu = await startEmulator(2)
    const gw = await gatewayClient(emu)
    await addAndLogin(gw, [sub(1)])
    const pack = sys(GW, 'thing/event/property/pack/post')
    const ok = await request(gw, pack, {
      properties: { Power: { value: 'on', time: 1 } },
      subDevices: [
        {
          identity: id(sub(1)),
          properties: { Brightness: { value: 5, time: 2 } },
          events: { alarm: { value: { level: 1 }, time: 3 } },
        },
      ],
    })
    expect(ok.code).toBe(200)
    expect(emu.device(GW.productKey, GW.deviceName)?.properties?.Power?.value).toBe('on')
    expect(emu.device(SUB_PK, 'sub-1')?.properties?.Brightness).toMatchObject({ value: 5, time: 2 })
    expect(emu.device(SUB_PK, 'sub-1')?.events?.[0]).toMatchObject({ identifier: 'alarm' })
    const subs = Array.from({ length: 21 }, () => ({ identity: id(sub(1)), properties: { a: 1 } }))
    expect((await request(gw, pack, { subDevices: subs })).code).toBe(460)
    const props = Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`p${i}`, { value: i, time: 1 }]))
    expect((await request(gw, pack, { properties: props })).code).toBe(6106)
    const events = Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`e${i}`, { value: {}, time: 1 }]))
    expect((await request(gw, pack, { events })).code).toBe(460)
    const offline = await request(gw, pack, { subDevices: [{ identity: id(sub(2)), properties: { a: 1 } }] })
    expect(offline).toMatchObject({ code: 520, data: [{ ...id(sub(2)), code: 520 }] })
  })

  it('notices: permit join and topology change go to the gateway; disable reaches it though the sub-device is logged out', async () => {
    await using emu = await startEmulator(1)
    expect(await emu.gateway.permitJoin(GW)).toBeUndefined()
    const gw = await gatewayClient(emu)
    const answer = (topic: string) =>
      nextMessage(gw, topic).then(({ payload }) => {
        const { id: msgId } = JSON.parse(payload.toString()) as { id: string }
        return gw.publishAsync(`${topic}_reply`, JSON.stringify({ id: msgId, code: 200, data: {} }), {
          qos: 1,
        })
      })
    await gw.subscribeAsync(sys(GW, 'thing/gateway/permit'))
    const permit = nextMessage(gw, sys(GW, 'thing/gateway/permit'))
    const replied = answer(sys(GW, 'thing/gateway/permit'))
    expect(await emu.gateway.permitJoin(GW, { productKey: SUB_PK, timeSeconds: 15 })).toMatchObject({
      code: 200,
    })
    await replied
    expect(JSON.parse((await permit).payload.toString())).toMatchObject({
      method: 'thing.gateway.permit',
      params: { productKey: SUB_PK, time: 15 },
    })

    await gw.subscribeAsync(sys(GW, 'thing/topo/change'))
    const change = nextMessage(gw, sys(GW, 'thing/topo/change'))
    const changeReplied = answer(sys(GW, 'thing/topo/change'))
    await emu.gateway.addTopology(GW, [id(sub(1))])
    await changeReplied
    expect(JSON.parse((await change).payload.toString())).toMatchObject({
      params: { status: 0, subList: [id(sub(1))] },
    })

    await addAndLogin(gw, [sub(1)])
    expect(await suback(gw, sys(sub(1), 'thing/+'))).toBe(1)
    const disableReplied = answer(sys(sub(1), 'thing/disable'))
    expect(await emu.gateway.disableSubDevice(sub(1))).toMatchObject({ code: 200 })
    await disableReplied
    expect(emu.gateway.isLoggedIn(sub(1))).toBe(false)
    expect(await request(gw, session('login'), loginParams(sub(1)))).toMatchObject({ code: 522 })
  })
})
