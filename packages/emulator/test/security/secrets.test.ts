import { Writable } from 'node:stream'
import got from 'got'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { Emulator, REGISTER_PATH } from '../../src/index.js'
import { control } from '../control-helpers.js'
import { request, sys } from '../gateway-helpers.js'
import { client, closed, connect, credentials, refusalCode } from '../helpers.js'
import { hmacHex, registerContent } from '../signing.js'

/**
 * Issue 10, finding 1, every other path: HTTP and MQTT dynamic registration, the control API's
 * views of `emu.device()` and the logs. No path hands a device secret (or the product secret, or
 * the control token) to whoever should not have it.
 */
const PK = 'a1SecretSwp1'
const PS = 'sweep-product-secret-0001'
const ACTIVE = { productKey: PK, deviceName: 'active', deviceSecret: 'active-device-secret-00000000001' }
const GATEWAY = {
  productKey: 'a1SweepGw001',
  deviceName: 'gw',
  deviceSecret: 'sweep-gateway-secret-00000000001',
}

function signFor(deviceName: string, random: string): string {
  return hmacHex('hmacsha256', PS, registerContent(PK, deviceName, random))
}

function httpRegister(emu: Emulator, deviceName: string) {
  const random = `random-${deviceName}`
  return got
    .post(`${emu.httpUrl}${REGISTER_PATH}`, {
      form: {
        productKey: PK,
        deviceName,
        random,
        signMethod: 'hmacsha256',
        sign: signFor(deviceName, random),
      },
    })
    .json<{ code: number; data?: { deviceSecret: string } }>()
}

function mqttRegister(deviceName: string) {
  const random = `r${deviceName.length}`
  return {
    clientId: `${PK}.${deviceName}|authType=register,random=${random},signmethod=hmacsha256,securemode=2|`,
    username: `${deviceName}&${PK}`,
    password: signFor(deviceName, random),
  }
}

describe('attack: every other way to a device secret (issue 10, finding 1)', () => {
  it('no registration path answers for an activated device; the control API and logs carry no secret', async () => {
    let logs = ''
    const sink = new Writable({
      write(chunk, _encoding, done) {
        logs += String(chunk)
        done()
      },
    })
    await using emu = await Emulator.start({
      products: [
        { productKey: PK, productSecret: PS, dynamicRegistration: true },
        { productKey: GATEWAY.productKey, nodeType: 'gateway' },
      ],
      devices: [ACTIVE, GATEWAY],
      logger: pino({ level: 'trace' }, sink),
    })
    await connect(emu.mqttUrl, credentials(ACTIVE))

    // The activated device: HTTP, MQTT and gateway registration all refuse, even with the product secret.
    const http = await httpRegister(emu, ACTIVE.deviceName)
    expect(http.code).toBe(400)
    expect(JSON.stringify(http)).not.toContain(ACTIVE.deviceSecret)
    expect(await refusalCode(emu.mqttUrl, mqttRegister(ACTIVE.deviceName))).toBe(5)
    const gateway = await connect(emu.mqttUrl, credentials(GATEWAY))
    const subRegister = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [
      { productKey: PK, deviceName: ACTIVE.deviceName },
    ])
    expect(subRegister.code).toBe(400)

    // Secrets issued rightfully, one per path.
    const issued = [ACTIVE.deviceSecret, GATEWAY.deviceSecret, PS]
    issued.push((await httpRegister(emu, 'by-http')).data?.deviceSecret ?? 'missing')
    const viaMqtt = client(emu.mqttUrl, mqttRegister('by-mqtt'))
    const gone = closed(viaMqtt)
    const pushed = new Promise<string>((resolve) =>
      viaMqtt.once('message', (_t, payload) => resolve(String(payload))),
    )
    issued.push((JSON.parse(await pushed) as { deviceSecret: string }).deviceSecret)
    await gone
    const bySub = await request(gateway, sys(GATEWAY, 'thing/sub/register'), [
      { productKey: PK, deviceName: 'by-gw' },
    ])
    issued.push((bySub.data as Array<{ deviceSecret: string }>)[0]?.deviceSecret ?? 'missing')
    expect(issued.slice(3).every((secret) => /^[0-9a-f]{32}$/.test(secret))).toBe(true)

    const views = [
      await control(emu, 'GET', 'info'),
      await control(emu, 'GET', 'devices'),
      await control(emu, 'GET', 'jobs'),
      ...(await Promise.all(
        ['active', 'by-http', 'by-mqtt', 'by-gw'].map((dn) => control(emu, 'GET', `devices/${PK}/${dn}`)),
      )),
      await control(emu, 'GET', `devices/${GATEWAY.productKey}/${GATEWAY.deviceName}`),
    ]
    expect(views.every((view) => view.status === 200)).toBe(true)
    for (const view of views) {
      expect(view.body).not.toHaveProperty('deviceSecret')
      for (const secret of issued) expect(view.text).not.toContain(secret)
    }
    expect(logs.length).toBeGreaterThan(0)
    for (const secret of [...issued, emu.controlToken ?? 'missing']) expect(logs).not.toContain(secret)
  })
})
