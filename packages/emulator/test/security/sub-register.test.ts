import { describe, expect, it } from 'vitest'
import { Emulator, type EmulatorOptions } from '../../src/index.js'
import { type Reply, request, sys } from '../gateway-helpers.js'
import { closed, connect, credentials } from '../helpers.js'
import { hmacHex, registerContent } from '../signing.js'

/**
 * Finding 1 of issue 10: any logged-in device could publish `thing.sub.register` naming any
 * pre-registered device and read its `deviceSecret` in the reply, then log in as it and kick it off.
 */
const ATTACKER = {
  productKey: 'a1PlainDev01',
  deviceName: 'attacker',
  deviceSecret: 'attacker-secret-0000000000000000',
}
const GATEWAY = {
  productKey: 'a1GatewayP01',
  deviceName: 'gw-1',
  deviceSecret: 'gateway-secret-00000000000000000',
}
/** A device of a product without dynamic registration, provisioned with its secret. */
const VICTIM = {
  productKey: 'a1VictimPk01',
  deviceName: 'victim',
  deviceSecret: 'victim-secret-000000000000000000',
}
const DYN_PK = 'a1DynSubPk01'
const DYN_PS = 'dyn-product-secret-01'
/** A device of a product that allows dynamic registration, already activated and online. */
const ACTIVE = { productKey: DYN_PK, deviceName: 'active', deviceSecret: 'active-secret-000000000000000000' }
/** Pre-registered in the same product, never activated: the one a gateway may register. */
const FRESH = { productKey: DYN_PK, deviceName: 'fresh', deviceSecret: 'fresh-secret-0000000000000000000' }

const OPTIONS: EmulatorOptions = {
  products: [
    { productKey: GATEWAY.productKey, nodeType: 'gateway' },
    { productKey: DYN_PK, productSecret: DYN_PS, dynamicRegistration: true },
  ],
  devices: [ATTACKER, GATEWAY, VICTIM, ACTIVE, FRESH],
}

const mqttLogin = (d: { productKey: string; deviceName: string; deviceSecret: string }) =>
  credentials({ productKey: d.productKey, deviceName: d.deviceName, deviceSecret: d.deviceSecret })

const id = ({ productKey, deviceName }: { productKey: string; deviceName: string }) => ({
  productKey,
  deviceName,
})

function productEntry(deviceName: string) {
  const random = `r-${deviceName}`
  const sign = hmacHex('hmacsha256', DYN_PS, registerContent(DYN_PK, deviceName, random))
  return { productKey: DYN_PK, deviceName, random, signMethod: 'hmacSha256', sign }
}

/** The reply as text: whatever its shape, a secret must not be in it. */
const text = (reply: Reply) => JSON.stringify(reply)

describe('attack: secrets through gateway registration (issue 10, finding 1)', () => {
  it('a device that is no gateway gets no secret from thing.sub.register, and its victim stays online', async () => {
    await using emu = await Emulator.start(OPTIONS)
    const victim = await connect(emu.mqttUrl, mqttLogin(VICTIM))
    const attacker = await connect(emu.mqttUrl, mqttLogin(ATTACKER))
    const reply = await request(attacker, sys(ATTACKER, 'thing/sub/register'), [id(VICTIM), id(FRESH)])
    expect(reply.code).toBe(401)
    expect(reply.message).toBe('only a gateway may register sub-devices')
    expect(text(reply)).not.toContain(VICTIM.deviceSecret)
    expect(text(reply)).not.toContain(FRESH.deviceSecret)
    expect(victim.connected).toBe(true)
    expect(emu.device(VICTIM.productKey, VICTIM.deviceName)?.connectCount).toBe(1)
  })

  it('a gateway gets no secret of an activated device, even when its product allows registration', async () => {
    await using emu = await Emulator.start(OPTIONS)
    const active = await connect(emu.mqttUrl, mqttLogin(ACTIVE))
    const gateway = await connect(emu.mqttUrl, mqttLogin(GATEWAY))
    const reply = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [id(ACTIVE)])
    expect(reply).toMatchObject({ code: 400, data: [{ ...id(ACTIVE), code: 400 }] })
    expect(text(reply)).not.toContain(ACTIVE.deviceSecret)

    // Offline does not make it registrable again: it stays activated.
    const gone = closed(active)
    emu.kick(ACTIVE.productKey, ACTIVE.deviceName)
    await gone
    const again = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [id(ACTIVE)])
    expect(again.code).toBe(400)
    expect(text(again)).not.toContain(ACTIVE.deviceSecret)
  })

  it('a gateway gets no secret of a device whose product does not allow dynamic registration', async () => {
    await using emu = await Emulator.start(OPTIONS)
    const gateway = await connect(emu.mqttUrl, mqttLogin(GATEWAY))
    const reply = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [id(FRESH), id(VICTIM)])
    expect(reply).toMatchObject({ code: 401, data: [{ ...id(VICTIM), code: 401 }] })
    expect(text(reply)).not.toContain(VICTIM.deviceSecret)
    // All or nothing: the allowed entry of the same request got nothing either.
    expect(text(reply)).not.toContain(FRESH.deviceSecret)
  })

  it('what the platform allows still works: a gateway registers a fresh device of a product with dynamic registration', async () => {
    await using emu = await Emulator.start(OPTIONS)
    const gateway = await connect(emu.mqttUrl, mqttLogin(GATEWAY))
    const reply = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [id(FRESH)])
    expect(reply).toMatchObject({ code: 200, data: [{ ...id(FRESH), deviceSecret: FRESH.deviceSecret }] })
  })

  it('product_register answers only a gateway, and never for an activated device', async () => {
    await using emu = await Emulator.start(OPTIONS)
    await connect(emu.mqttUrl, mqttLogin(ACTIVE))
    const attacker = await connect(emu.mqttUrl, mqttLogin(ATTACKER))
    const topic = (d: typeof ATTACKER) => sys(d, 'thing/proxy/provisioning/product_register')
    const byAttacker = await request(attacker, topic(ATTACKER), {
      proxieds: [productEntry(FRESH.deviceName)],
    })
    expect(byAttacker.code).toBe(401)
    expect(text(byAttacker)).not.toContain(FRESH.deviceSecret)

    const gateway = await connect(emu.mqttUrl, mqttLogin(GATEWAY))
    const reply = await request(gateway, topic(GATEWAY), {
      proxieds: [productEntry(ACTIVE.deviceName), productEntry(FRESH.deviceName)],
    })
    expect(reply).toMatchObject({
      code: 200,
      data: { successes: [{ deviceName: 'fresh' }], failures: [{ deviceName: 'active', code: 400 }] },
    })
    expect(text(reply)).not.toContain(ACTIVE.deviceSecret)
  })
})
