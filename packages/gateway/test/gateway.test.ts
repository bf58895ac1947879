import { isLinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { GW, gateway, identity, LAMP_TSL, next, startEmulator, sub } from './helpers.js'

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

  it('connectAll() batches registration-free topology adds (≤30) and logins (≤50) into few messages', async () => {
    await using emu = await startEmulator(60)
    await using gw = await gateway(emu)
    const seen: string[] = []
    emu.onUplink('/ext/session/+/+/combine/+', (ctx) => void seen.push(ctx.topic.split('/').pop() ?? ''))
    emu.onUplink('/sys/+/+/thing/topo/add', () => void seen.push('topo/add'))
    const subs = Array.from({ length: 60 }, (_, i) => gw.subdevices.open(sub(i + 1)))
    await gw.subdevices.connectAll()
    expect(subs.every((s) => s.state === 'online')).toBe(true)
    expect(emu.gateway.loggedIn(GW)).toHaveLength(60)
    expect(seen.filter((t) => t === 'topo/add')).toHaveLength(2)
    expect(seen.filter((t) => t === 'batch_login')).toHaveLength(2)
    expect(seen.filter((t) => t === 'login')).toHaveLength(0)
    const replies = await Promise.all(subs.map((s, i) => s.postProperties({ Brightness: i })))
    expect(replies.every((r) => r.code === 200)).toBe(true)
    expect(emu.device(sub(60).productKey, sub(60).deviceName)?.properties?.Brightness?.value).toBe(59)
    await gw.subdevices.close()
    expect(seen.filter((t) => t === 'batch_logout')).toHaveLength(2)
    expect(emu.gateway.loggedIn(GW)).toHaveLength(0)
  })

  it('registers a sub-device without a secret: thing.sub.register, or product_register with the product secret', async () => {
    const productSecret = 'ps-sub-product-01'
    await using emu = await startEmulator(0, {
      products: [
        { productKey: 'a1PreReg0001', dynamicRegistration: false },
        { productKey: 'a1ProdReg001', productSecret, dynamicRegistration: true },
      ],
    })
    emu.addDevice({ productKey: 'a1PreReg0001', deviceName: 'pre-1' })
    await using gw = await gateway(emu)
    const pre = gw.subdevices.open({ productKey: 'a1PreReg0001', deviceName: 'pre-1' })
    const byProduct = gw.subdevices.open({ productKey: 'a1ProdReg001', deviceName: 'new-1', productSecret })
    const secrets: string[] = []
    pre.on('registered', (d) => void secrets.push(d.deviceSecret))
    byProduct.on('registered', (d) => void secrets.push(d.deviceSecret))
    await gw.subdevices.connectAll()
    expect(secrets).toEqual(
      expect.arrayContaining([
        emu.device('a1PreReg0001', 'pre-1')?.deviceSecret,
        emu.device('a1ProdReg001', 'new-1')?.deviceSecret,
      ]),
    )
    expect(secrets).toHaveLength(2)
    expect((await byProduct.postProperties({ anything: 1 })).code).toBe(200)

    const unknown = gw.subdevices.open({ productKey: 'a1PreReg0001', deviceName: 'nobody' })
    const failed = await unknown.connect().catch((e: unknown) => e)
    expect(failed).toMatchObject({ code: 'ERR_DYNREG_FAILED', replyCode: 6100 })
  })

  it('refusals carry the platform code: 401 bad signature, 6402 the gateway itself, 6100 unknown, 522 disabled', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const wrong = gw.subdevices.open({ ...sub(1), deviceSecret: 'not-the-secret' })
    await expect(wrong.connect()).rejects.toMatchObject({ code: 'ERR_REPLY', replyCode: 401 })
    expect(wrong.state).toBe('idle')
    const self = gw.subdevices.open(GW)
    await expect(self.connect()).rejects.toMatchObject({ code: 'ERR_REPLY', replyCode: 6402 })
    const ghost = gw.subdevices.open({ ...sub(9), productKey: 'a1Nobody0001' })
    await expect(ghost.connect()).rejects.toMatchObject({ replyCode: 6100 })
    emu.setDisabled(sub(2).productKey, sub(2).deviceName, true)
    const disabled = gw.subdevices.open(sub(2))
    await expect(disabled.connect()).rejects.toMatchObject({ code: 'ERR_REPLY', replyCode: 522 })
    expect(() => gw.subdevices.open(sub(2))).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }),
    )
    const all = await gw.subdevices.connectAll([wrong, ghost]).catch((e: unknown) => e)
    expect(all).toMatchObject({
      code: 'ERR_REPLY',
      details: { failed: [{ replyCode: 401 }, { replyCode: 6100 }] },
    })
  })

  it('publishing for a sub-device that is not logged in: refused locally, 520 from the platform, re-login after a lost session', async () => {
    await using emu = await startEmulator(1)
    await using gw = await gateway(emu)
    const lamp = gw.subdevices.open(sub(1))
    await expect(lamp.postProperties({ Brightness: 1 })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_NOT_LOGGED_IN',
    })
    await lamp.connect()
    await lamp.logout()
    expect(lamp.state).toBe('idle')
    expect(emu.gateway.isLoggedIn(sub(1))).toBe(false)
    await expect(lamp.postProperties({ Brightness: 1 })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_NOT_LOGGED_IN',
    })
    // The gateway itself may still publish on the sub-device's topics (it is in the topology): the platform answers 520.
    const raw = await gw.connection
      .request(`/sys/${sub(1).productKey}/${sub(1).deviceName}/thing/event/property/post`, { Brightness: 1 })
      .catch((e: unknown) => e)
    expect(raw).toMatchObject({ code: 'ERR_REPLY', replyCode: 520 })
    expect(gw.connected).toBe(true)

    await lamp.connect()
    expect(emu.gateway.dropSession(sub(1))).toBe(true)
    const lost = next(lamp, 'disconnected')
    const back = next(lamp, 'connected')
    await expect(lamp.postProperties({ Brightness: 2 })).rejects.toMatchObject({
      code: 'ERR_SUBDEVICE_NOT_LOGGED_IN',
      replyCode: 520,
    })
    expect(await lost).toMatchObject({ reason: 'session-lost' })
    expect(await back).toEqual({ reconnect: true })
    expect((await lamp.postProperties({ Brightness: 3 })).code).toBe(200)
  })

  it('removeTopo() logs out and deletes the relation; getTopo() and reportFound() ask the platform', async () => {
    await using emu = await startEmulator(3)
    await using gw = await gateway(emu)
    const [a, b] = [gw.subdevices.open(sub(1)), gw.subdevices.open(sub(2))]
    await gw.subdevices.connectAll()
    expect(await gw.subdevices.getTopo()).toEqual(
      expect.arrayContaining([identity(sub(1)), identity(sub(2))]),
    )
    await a.removeTopo()
    expect(a.state).toBe('idle')
    expect(await gw.subdevices.getTopo()).toEqual([identity(sub(2))])
    expect(emu.gateway.isLoggedIn(sub(1))).toBe(false)
    expect(b.connected).toBe(true)
    await gw.subdevices.reportFound([identity(sub(3))])
    expect(emu.gateway.found(GW)).toEqual([identity(sub(3))])
    await a.connect()
    expect(emu.gateway.topology(GW)).toHaveLength(2)
  })
})
