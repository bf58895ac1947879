import { describe, expect, it } from 'vitest'
import { isLinkkitError } from '../src/index.js'
import { GW, gateway, identity, LAMP_TSL, next, startEmulator, sub } from './gateway-helpers.js'

describe('sub-devices through a gateway', () => {
  it('connect() adds the topology, logs in, and carries posts, sets and services; close() logs out', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const lamp = gw.subdevices.open({ ...sub(1), thingModel: LAMP_TSL })
    expect(lamp.state).toBe('idle')
    await lamp.connect()
    expect(lamp.state).toBe('online')
    expect(emu.gateway.topology(GW)).toEqual([identity(sub(1))])
    expect(emu.gateway.isLoggedIn(sub(1))).toBe(true)
    expect(emu.device(sub(1).productKey, sub(1).deviceName)?.online).toBe(true)

    expect((await lamp.postProperties({ LightSwitch: 1, Brightness: 40 })).code).toBe(200)
    expect(emu.device(sub(1).productKey, sub(1).deviceName)?.properties?.Brightness?.value).toBe(40)
    const invalid = await lamp.postProperties({ Brightness: 400 }).catch((e: unknown) => e)
    expect(isLinkkitError(invalid, 'ERR_TSL_VALIDATION')).toBe(true)

    lamp.onService('wakeup', async (params) => ({ out: Number(params.delaySeconds) + 1 }))
    const reply = await emu.invokeService(sub(1).productKey, sub(1).deviceName, 'wakeup', { delaySeconds: 2 })
    expect(reply).toMatchObject({ code: 200, data: { out: 3 } })

    const set = next(lamp, 'property:set')
    const setReply = await emu.setProperties(sub(1).productKey, sub(1).deviceName, { Brightness: 77 })
    expect(setReply.code).toBe(200)
    expect((await set).params).toEqual({ Brightness: 77 })

    await lamp.close()
    expect(lamp.state).toBe('closed')
    expect(emu.gateway.isLoggedIn(sub(1))).toBe(false)
    expect(emu.device(sub(1).productKey, sub(1).deviceName)?.online).toBe(false)
    expect(gw.subdevices.size).toBe(0)
  })
})
