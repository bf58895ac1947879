import { describe, expect, it } from 'vitest'
import { GW, gatewayClient, id, request, SUB_PK, signed, startEmulator, sub, sys } from './gateway-helpers.js'
import { hmacHex, registerContent } from './signing.js'

describe('emulator gateway: registration and topology', () => {
  it('thing.topo.add checks each signature: 401 bad sign, 6402 the gateway itself, 6100 unknown, 460 malformed; all or nothing', async () => {
    await using emu = await startEmulator(3)
    const gw = await gatewayClient(emu)
    const add = (params: unknown) => request(gw, sys(GW, 'thing/topo/add'), params)

    const bad = await add([signed(sub(1)), signed(sub(2), 'hmacsha256', 'wrong-secret')])
    expect(bad).toMatchObject({ code: 401, data: [{ ...id(sub(2)), code: 401 }] })
    expect(emu.gateway.topology(GW)).toEqual([])
    expect(await add([signed(GW)])).toMatchObject({ code: 6402 })
    expect(await add([signed({ ...sub(9), productKey: 'a1Unknown01' })])).toMatchObject({ code: 6100 })
    expect(await add([{ productKey: SUB_PK }])).toMatchObject({ code: 460 })
    expect(await add({})).toMatchObject({ code: 460 })
    expect(await add(Array.from({ length: 31 }, () => signed(sub(1))))).toMatchObject({ code: 460 })

    const ok = await add([signed(sub(1)), signed(sub(2), 'hmacsha1'), { ...signed(sub(3), 'hmacmd5') }])
    expect(ok).toMatchObject({ code: 200, data: [id(sub(1)), id(sub(2)), id(sub(3))] })
    expect(emu.gateway.topology(GW)).toEqual([id(sub(1)), id(sub(2)), id(sub(3))])
    expect((await request(gw, sys(GW, 'thing/topo/get'), {})).data).toEqual([
      id(sub(1)),
      id(sub(2)),
      id(sub(3)),
    ])
  })

  it('6400 beyond the topology limit; thing.topo.delete removes (6401 when not in the topology)', async () => {
    await using emu = await startEmulator(3)
    emu.gateway.setLimits({ maxTopology: 2 })
    const gw = await gatewayClient(emu)
    const add = (params: unknown) => request(gw, sys(GW, 'thing/topo/add'), params)
    expect((await add([signed(sub(1)), signed(sub(2))])).code).toBe(200)
    expect(await add([signed(sub(3))])).toMatchObject({ code: 6400 })
    expect(await request(gw, sys(GW, 'thing/topo/delete'), [id(sub(3))])).toMatchObject({ code: 6401 })
    expect((await request(gw, sys(GW, 'thing/topo/delete'), [id(sub(1))])).code).toBe(200)
    expect(emu.gateway.topology(GW)).toEqual([id(sub(2))])
    expect((await add([signed(sub(3))])).code).toBe(200)
  })

  it('thing.sub.register hands out secrets of sub-devices listed without one; 401 for a provisioned secret, 6100 for unknown ones', async () => {
    await using emu = await startEmulator(1, {
      products: [{ productKey: 'a1DynSub001', dynamicRegistration: true }],
    })
    emu.addDevice({ productKey: SUB_PK, deviceName: 'no-secret' })
    const gw = await gatewayClient(emu)
    const reply = await request(gw, sys(GW, 'thing/sub/register'), [
      { productKey: SUB_PK, deviceName: 'no-secret' },
      { productKey: 'a1DynSub001', deviceName: 'created-on-the-fly' },
    ])
    expect(reply.code).toBe(200)
    const data = reply.data as Array<{ deviceName: string; deviceSecret: string; iotId: string }>
    expect(data.map((d) => d.deviceName)).toEqual(['no-secret', 'created-on-the-fly'])
    expect(data[0]?.deviceSecret).toBe(emu.device(SUB_PK, 'no-secret')?.deviceSecret)
    expect(data[1]?.deviceSecret).toMatch(/^[0-9a-f]{32}$/)
    // sub-1 was provisioned with its own secret and its product has no dynamic registration (issue 10).
    const provisioned = await request(gw, sys(GW, 'thing/sub/register'), [id(sub(1))])
    expect(provisioned).toMatchObject({ code: 401, data: [{ deviceName: 'sub-1', code: 401 }] })
    expect(JSON.stringify(provisioned)).not.toContain(sub(1).deviceSecret)
    const unknown = await request(gw, sys(GW, 'thing/sub/register'), [
      { productKey: SUB_PK, deviceName: 'nobody' },
    ])
    expect(unknown).toMatchObject({ code: 6100, data: [{ deviceName: 'nobody', code: 6100 }] })
  })

  it('product_register signs with the product secret; bad signs are listed as failures', async () => {
    const productSecret = 'product-secret-1'
    await using emu = await startEmulator(0, {
      products: [{ productKey: SUB_PK, productSecret, dynamicRegistration: true }],
    })
    const gw = await gatewayClient(emu)
    const entry = (deviceName: string, secret: string) => {
      const random = `r-${deviceName}`
      const sign = hmacHex('hmacsha256', secret, registerContent(SUB_PK, deviceName, random))
      return { productKey: SUB_PK, deviceName, random, signMethod: 'hmacSha256', sign }
    }
    const reply = await request(gw, sys(GW, 'thing/proxy/provisioning/product_register'), {
      proxieds: [entry('good-1', productSecret), entry('bad-1', 'nope')],
    })
    expect(reply).toMatchObject({
      code: 200,
      data: {
        successes: [{ deviceName: 'good-1', deviceSecret: emu.device(SUB_PK, 'good-1')?.deviceSecret }],
        failures: [{ deviceName: 'bad-1', code: 401 }],
      },
    })
  })

  it('thing.list.found is kept; topology from EmulatorOptions survives as the platform state', async () => {
    await using emu = await startEmulator(2, { topology: [{ gateway: GW, subDevices: [id(sub(2))] }] })
    expect(emu.gateway.topology(GW)).toEqual([id(sub(2))])
    const gw = await gatewayClient(emu)
    expect((await request(gw, sys(GW, 'thing/list/found'), [id(sub(1))])).code).toBe(200)
    expect(emu.gateway.found(GW)).toEqual([id(sub(1))])
  })
})
