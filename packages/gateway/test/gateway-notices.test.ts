import { describe, expect, it } from 'vitest'
import type { SubDevicesEvents } from '../src/index.js'
import { GW, gateway, identity, next, startEmulator, sub } from './helpers.js'

function nextEvent<E extends keyof SubDevicesEvents>(
  emitter: { once: (event: E, listener: SubDevicesEvents[E]) => unknown },
  event: E,
): Promise<Parameters<SubDevicesEvents[E]>[0]> {
  return new Promise((resolve) => emitter.once(event, ((arg: never) => resolve(arg)) as SubDevicesEvents[E]))
}

describe('platform notices to a gateway', () => {
  it('permit join, topology change and "add these sub-devices" become events and are answered 200', async () => {
    await using emu = await startEmulator(3)
    await using gw = await gateway(emu)
    const subs = gw.subdevices
    const permit = nextEvent(subs, 'permit')
    expect(
      await emu.gateway.permitJoin(GW, { productKey: sub(1).productKey, timeSeconds: 30 }),
    ).toMatchObject({
      code: 200,
    })
    expect(await permit).toEqual({ productKey: sub(1).productKey, timeSeconds: 30 })

    const add = nextEvent(subs, 'topo:add')
    expect(await emu.gateway.notifyTopoAdd(GW, [identity(sub(3))])).toMatchObject({ code: 200 })
    expect(await add).toEqual([identity(sub(3))])

    const created = nextEvent(subs, 'topo:change')
    await emu.gateway.addTopology(GW, [identity(sub(2))])
    expect(await created).toEqual({ kind: 'created', status: 0, subDevices: [identity(sub(2))] })

    const lamp = subs.open(sub(2))
    await lamp.connect()
    const deleted = nextEvent(subs, 'topo:change')
    const gone = next(lamp, 'disconnected')
    await emu.gateway.removeTopology(GW, [identity(sub(2))])
    expect(await deleted).toMatchObject({ kind: 'deleted', status: 1 })
    expect(await gone).toMatchObject({ reason: 'topology' })
    expect(lamp.state).toBe('idle')
  })

  it('disable logs the sub-device out until enable logs it back in; delete ends it for good', async () => {
    await using emu = await startEmulator(1)
    await using gw = await gateway(emu)
    const lamp = gw.subdevices.open(sub(1))
    await lamp.connect()
    const notices: string[] = []
    gw.subdevices.on('subdevice:notice', (n) => void notices.push(`${n.deviceName}:${n.notice}`))

    const disabled = next(lamp, 'disabled')
    expect(await emu.gateway.disableSubDevice(sub(1))).toMatchObject({ code: 200 })
    await disabled
    expect(lamp.state).toBe('disabled')
    await expect(lamp.postProperties({ Brightness: 5 })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_NOT_LOGGED_IN',
    })

    const back = next(lamp, 'connected')
    expect(await emu.gateway.enableSubDevice(sub(1))).toMatchObject({ code: 200 })
    expect(await back).toEqual({ reconnect: true })
    expect((await lamp.postProperties({ Brightness: 6 })).code).toBe(200)

    const deleted = next(lamp, 'deleted')
    expect(await emu.gateway.deleteSubDevice(sub(1))).toMatchObject({ code: 200 })
    await deleted
    expect(lamp.state).toBe('deleted')
    expect(emu.gateway.topology(GW)).toEqual([])
    await expect(lamp.connect()).rejects.toMatchObject({ replyCode: 6100 })
    expect(notices).toEqual(['lamp-0001:disable', 'lamp-0001:enable', 'lamp-0001:delete'])
  })
})
