import type { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import type { SubDevicesEvents } from '../src/index.js'
import { GW, gateway, identity, next, startEmulator, sub } from './helpers.js'

function relogin(subs: { once: (e: 'relogin', l: SubDevicesEvents['relogin']) => unknown }) {
  return new Promise<Parameters<SubDevicesEvents['relogin']>[0]>((resolve) => subs.once('relogin', resolve))
}

function port(emu: Emulator): number {
  return Number(new URL(emu.mqttUrl).port)
}

function countLogins(emu: Emulator): string[] {
  const seen: string[] = []
  emu.onUplink('/ext/session/+/+/combine/+', (ctx) => void seen.push(ctx.topic.split('/').pop() ?? ''))
  return seen
}

describe('sub-devices across gateway reconnects', () => {
  it('logs every sub-device in again (one batch) after a broker restart and restores its subscriptions', async () => {
    const first = await startEmulator(3)
    const mqttPort = port(first)
    await using gw = await gateway(first)
    const lamps = [1, 2, 3].map((i) => gw.subdevices.open(sub(i)))
    await gw.subdevices.connectAll()
    const lost = next(lamps[0]!, 'disconnected')
    await first.close()
    expect(await lost).toEqual({ reason: 'gateway' })
    expect(lamps.map((l) => l.state)).toEqual(['reconnecting', 'reconnecting', 'reconnecting'])
    // Made while the gateway is away: waits in the sub-device's queue and goes out after the re-login.
    const queued = lamps[1]!.postProperties({ Brightness: 9 })

    const again = relogin(gw.subdevices)
    await using second = await startEmulator(3, {
      mqttPort,
      topology: [{ gateway: GW, subDevices: [1, 2, 3].map((i) => identity(sub(i))) }],
    })
    const seen = countLogins(second)
    expect(await again).toEqual({ loggedIn: 3, failed: [] })
    expect(seen).toEqual(['batch_login'])
    expect(lamps.every((l) => l.state === 'online')).toBe(true)
    expect((await queued).code).toBe(200)
    expect(second.device(sub(2).productKey, sub(2).deviceName)?.properties?.Brightness?.value).toBe(9)
    lamps[2]!.onService('wakeup', async () => ({ out: 1 }))
    const reply = await second.invokeService(sub(3).productKey, sub(3).deviceName, 'wakeup', {})
    expect(reply.code).toBe(200)
  })

  it('adds the topology again when the platform lost it (6401), then logs in', async () => {
    const first = await startEmulator(2)
    const mqttPort = port(first)
    await using gw = await gateway(first)
    const lamps = [1, 2].map((i) => gw.subdevices.open(sub(i)))
    await gw.subdevices.connectAll()
    const lost = next(lamps[0]!, 'disconnected')
    await first.close()
    await lost
    const again = relogin(gw.subdevices)
    await using second = await startEmulator(2, { mqttPort })
    const seen = countLogins(second)
    expect(await again).toEqual({ loggedIn: 2, failed: [] })
    expect(seen).toEqual(['batch_login', 'batch_login'])
    expect(second.gateway.topology(GW)).toHaveLength(2)
    const set = next(lamps[0]!, 'property:set')
    expect((await second.setProperties(sub(1).productKey, sub(1).deviceName, { Brightness: 3 })).code).toBe(
      200,
    )
    expect((await set).params).toEqual({ Brightness: 3 })
  })

  it('a gateway kicked off the same platform takes its sub-devices offline and brings them back', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const lamps = [1, 2].map((i) => gw.subdevices.open(sub(i)))
    await gw.subdevices.connectAll()
    const again = relogin(gw.subdevices)
    const back = next(lamps[1]!, 'connected')
    emu.kick(GW.productKey, GW.deviceName)
    expect(await again).toEqual({ loggedIn: 2, failed: [] })
    expect(await back).toEqual({ reconnect: true })
    expect(emu.gateway.loggedIn(GW)).toHaveLength(2)
    expect(emu.device(sub(1).productKey, sub(1).deviceName)?.connectCount).toBe(2)
  })
})
