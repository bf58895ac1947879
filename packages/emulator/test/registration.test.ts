import got from 'got'
import { describe, expect, it } from 'vitest'
import { Emulator, type ProductRecord } from '../src/index.js'
import { client, closed, connect, credentials, DN, PK, refusalCode } from './helpers.js'
import { hmacHex, registerContent, type TestSignMethod } from './signing.js'

const PS = 'productSecret0123456789'
const PRODUCT: ProductRecord = { productKey: PK, productSecret: PS }
const RANDOM = '8Ygb7ULYh53B6OA'

interface Reply {
  code: number
  message: string
  data?: { productKey: string; deviceName: string; deviceSecret: string }
}

function sign(deviceName = DN, signMethod: TestSignMethod = 'hmacsha256', secret = PS): string {
  return hmacHex(signMethod, secret, registerContent(PK, deviceName, RANDOM))
}

function registerOverHttp(emu: Emulator, fields: Record<string, string>): Promise<Reply> {
  return got
    .post(`${emu.httpUrl}/auth/register/device`, {
      form: {
        productKey: PK,
        deviceName: DN,
        random: RANDOM,
        signMethod: 'hmacsha256',
        sign: sign(),
        ...fields,
      },
      headers: { accept: 'text/xml,text/javascript,text/html,application/json' },
    })
    .json<Reply>()
}

function mqttRegistration(deviceName = DN, signature = sign(deviceName)) {
  return {
    clientId: `${PK}.${deviceName}|authType=register,random=${RANDOM},signmethod=hmacsha256,securemode=2|`,
    username: `${deviceName}&${PK}`,
    password: signature,
    keepalive: 60,
  }
}

describe('dynamic registration over HTTP', () => {
  it('issues a 32-hex secret to a listed device without one, and that secret connects', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [{ productKey: PK, deviceName: DN }],
    })
    const reply = await registerOverHttp(emu, {})
    expect(reply).toMatchObject({ code: 200, message: 'success', data: { productKey: PK, deviceName: DN } })
    const deviceSecret = reply.data?.deviceSecret ?? ''
    expect(deviceSecret).toMatch(/^[0-9a-f]{32}$/)
    expect((await connect(emu.mqttUrl, credentials({ deviceSecret }))).connected).toBe(true)
    expect(await registerOverHttp(emu, {})).toMatchObject({ code: 400 })
  })

  it('gives the last secret when registering twice before activation', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [{ productKey: PK, deviceName: DN }],
    })
    const first = await registerOverHttp(emu, {
      signMethod: 'hmacsha1',
      sign: sign(DN, 'hmacsha1').toUpperCase(),
    })
    const second = await registerOverHttp(emu, {})
    expect(second.data?.deviceSecret).not.toBe(first.data?.deviceSecret)
    expect(
      await refusalCode(emu.mqttUrl, credentials({ deviceSecret: first.data?.deviceSecret ?? '' })),
    ).toBe(4)
    expect(emu.device(PK, DN)?.deviceSecret).toBe(second.data?.deviceSecret)
  })

  it('creates unlisted devices only for products with dynamicRegistration', async () => {
    await using emu = await Emulator.start({ products: [PRODUCT] })
    expect(await registerOverHttp(emu, {})).toMatchObject({ code: 6100 })
    emu.addProduct({ ...PRODUCT, dynamicRegistration: true })
    expect(await registerOverHttp(emu, {})).toMatchObject({ code: 200 })
    expect(emu.device(PK, DN)?.deviceSecret).toMatch(/^[0-9a-f]{32}$/)
  })

  it('refuses a bad sign (401), an unknown product (6250), missing fields (460), a disabled device (6204)', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [
        { productKey: PK, deviceName: DN },
        { productKey: PK, deviceName: 'off', disabled: true },
      ],
    })
    expect(await registerOverHttp(emu, { sign: sign(DN, 'hmacsha256', 'wrong') })).toMatchObject({
      code: 401,
    })
    expect(await registerOverHttp(emu, { productKey: 'a1Unknown00' })).toMatchObject({ code: 6250 })
    expect(await registerOverHttp(emu, { random: '' })).toMatchObject({ code: 460 })
    expect(await registerOverHttp(emu, { deviceName: 'off', sign: sign('off') })).toMatchObject({
      code: 6204,
    })
    expect(emu.device(PK, DN)?.deviceSecret).toBeUndefined()
  })
})

describe('dynamic registration over MQTT', () => {
  it('pushes /ext/register right after CONNACK without SUBSCRIBE, then closes', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [{ productKey: PK, deviceName: DN }],
    })
    const c = client(emu.mqttUrl, mqttRegistration())
    const message = new Promise<{ topic: string; payload: string }>((resolve) =>
      c.once('message', (topic, payload) => resolve({ topic, payload: payload.toString() })),
    )
    const gone = closed(c)
    const { topic, payload } = await message
    await gone
    expect(topic).toBe('/ext/register')
    const body = JSON.parse(payload) as Record<string, string>
    expect(body).toEqual({ productKey: PK, deviceName: DN, deviceSecret: emu.device(PK, DN)?.deviceSecret })
    expect(emu.device(PK, DN)).toMatchObject({ online: false, connectCount: 0 })
    expect((await connect(emu.mqttUrl, credentials({ deviceSecret: body.deviceSecret }))).connected).toBe(
      true,
    )
  })

  it('refuses a bad sign with CONNACK 4 and an unknown device with CONNACK 5', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [{ productKey: PK, deviceName: DN }],
    })
    expect(await refusalCode(emu.mqttUrl, mqttRegistration(DN, sign(DN, 'hmacsha256', 'wrong')))).toBe(4)
    expect(await refusalCode(emu.mqttUrl, mqttRegistration('ghost'))).toBe(5)
    expect(emu.device(PK, DN)?.deviceSecret).toBeUndefined()
  })

  it('does not let a registration connection publish', async () => {
    await using emu = await Emulator.start({
      products: [PRODUCT],
      devices: [{ productKey: PK, deviceName: DN }],
      registerCloseDelayMs: 5_000,
    })
    const c = await connect(emu.mqttUrl, mqttRegistration())
    const gone = closed(c)
    c.publish(`/sys/${PK}/${DN}/thing/event/property/post`, '{}', { qos: 1 })
    await gone
  })
})
