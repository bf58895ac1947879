import got from 'got'
import { describe, expect, it } from 'vitest'
import { verifySign } from '../src/gateway/signatures.js'
import { Emulator } from '../src/index.js'
import { hmacMatches } from '../src/signing/hmac.js'
import { signContent } from '../src/signing/sign-content.js'
import { GW, GW_PRODUCT, gatewayClient, request, session, sys } from './gateway-helpers.js'
import { client, closed, refusalCode } from './helpers.js'
import { CSDK, flipHex, VENDOR } from './vectors.js'

/**
 * Gateway sub-device signatures (topo add, combine.login, product_register) and dynamic
 * registrations from the vendor Node SDK and the C SDK 3.x (vectors.ts), accepted by the emulator
 * and refused with one character changed.
 */

describe('gateway sub-device signatures', () => {
  const C = CSDK.gateway
  const [cTopo] = C.topoAdd

  it('verifies the C SDK 3.x topo add and combine.login entries, and refuses each with one character changed', () => {
    const entry = cTopo as Record<string, string>
    const topo = { ...C.subDevice, signMethod: entry.signmethod, ...pick(entry) }
    expect(verifySign(C.subDevice.deviceSecret, topo)).toBe(true)
    expect(verifySign(C.subDevice.deviceSecret, { ...topo, sign: flipHex(entry.sign ?? '') })).toBe(false)
    expect(verifySign(C.subDevice.deviceSecret, { ...topo, timestamp: '12346' })).toBe(false)
    // combine.login signs the whole clientId, parameters and bars included.
    const login = { ...C.subDevice, signMethod: C.login.signMethod, ...pick(C.login) }
    expect(verifySign(C.subDevice.deviceSecret, login)).toBe(true)
    const cut = C.login.clientId?.replace('|_ss=1', '|_ss=2')
    expect(verifySign(C.subDevice.deviceSecret, { ...login, clientId: cut })).toBe(false)
  })

  it('verifies the vendor Node SDK signUtil entry (numeric timestamp, hmacsha1) and refuses it changed', () => {
    const { device, signed } = VENDOR.subDevice
    const entry = { ...device, clientId: String(signed.clientId), timestamp: String(signed.timestamp) }
    const good = { ...entry, signMethod: signed.signMethod, sign: signed.sign }
    expect(verifySign(device.deviceSecret, good)).toBe(true)
    expect(verifySign(device.deviceSecret, { ...good, sign: flipHex(String(signed.sign)) })).toBe(false)
    expect(verifySign(device.deviceSecret, { ...good, clientId: 'a1NodeSub01&vendor-suB' })).toBe(false)
  })

  it('over MQTT: the C SDK product_register, topo add and login pass; each changed is refused with its code', async () => {
    const sub = C.subDevice
    await using emu = await Emulator.start({
      products: [GW_PRODUCT, { productKey: sub.productKey, productSecret: sub.productSecret }],
      devices: [
        GW,
        { productKey: sub.productKey, deviceName: sub.deviceName, deviceSecret: sub.deviceSecret },
      ],
      noDelay: true,
    })
    const gw = await gatewayClient(emu)
    const [proxied] = C.productRegister.proxieds
    const badProxied = { ...proxied, sign: flipHex(proxied?.sign ?? '') }
    expect(
      await request(gw, sys(GW, 'thing/proxy/provisioning/product_register'), { proxieds: [badProxied] }),
    ).toMatchObject({
      code: 200,
      data: { successes: [], failures: [{ deviceName: sub.deviceName, code: 401 }] },
    })
    expect(
      await request(gw, sys(GW, 'thing/proxy/provisioning/product_register'), C.productRegister),
    ).toMatchObject({
      code: 200,
      data: { successes: [{ deviceName: sub.deviceName, deviceSecret: sub.deviceSecret }] },
    })

    const badTopo = [{ ...cTopo, sign: flipHex(cTopo?.sign ?? '', 0) }]
    expect(await request(gw, sys(GW, 'thing/topo/add'), badTopo)).toMatchObject({ code: 401 })
    expect(await request(gw, sys(GW, 'thing/topo/add'), C.topoAdd)).toMatchObject({ code: 200 })
    const badLogin = { ...C.login, sign: flipHex(C.login.sign ?? '') }
    expect(await request(gw, session('login'), badLogin)).toMatchObject({ code: 6287 })
    expect(await request(gw, session('login'), C.login)).toMatchObject({ code: 200 })
    expect(emu.device(sub.productKey, sub.deviceName)?.online).toBe(true)
  })

  it('over MQTT: the vendor Node SDK topo add and login pass; a changed sign is refused', async () => {
    const { device, signed } = VENDOR.subDevice
    await using emu = await Emulator.start({ products: [GW_PRODUCT], devices: [GW, device], noDelay: true })
    const gw = await gatewayClient(emu)
    const bad = { ...signed, sign: flipHex(String(signed.sign)) }
    expect(await request(gw, sys(GW, 'thing/topo/add'), [bad])).toMatchObject({ code: 401 })
    expect(await request(gw, sys(GW, 'thing/topo/add'), [signed])).toMatchObject({ code: 200 })
    expect(await request(gw, session('login'), bad)).toMatchObject({ code: 6287 })
    expect(await request(gw, session('login'), signed)).toMatchObject({ code: 200 })
  })
})

describe('dynamic registration signatures', () => {
  const R = CSDK.registration

  it('builds the sign content of docs/protocol.md §1.2 (dynreg lines) and checks its HMAC', () => {
    const content = signContent({
      deviceName: 'device001',
      productKey: 'a1B2c3D4e5F',
      random: '8Ygb7ULYh53B6OA',
    })
    expect(content).toBe('deviceNamedevice001productKeya1B2c3D4e5Frandom8Ygb7ULYh53B6OA')
    const ps = 'fedcba9876543210fedcba9876543210'
    const hex = 'a3679a9a2d31d4665b805ebf768ccc81a5e93ebdb42041075eb75a8941996693'
    expect(hmacMatches('hmacsha256', ps, content, hex)).toBe(true)
    expect(hmacMatches('hmacsha256', ps, content, flipHex(hex))).toBe(false)
  })

  const registrationEmulator = (productKey: string, productSecret: string, deviceName: string) =>
    Emulator.start({ products: [{ productKey, productSecret }], devices: [{ productKey, deviceName }] })

  async function post(
    emu: Emulator,
    form: string,
  ): Promise<{ code: number; data?: { deviceSecret?: string } }> {
    const reply = await got.post(`${emu.httpUrl}/auth/register/device`, {
      body: form,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    })
    return JSON.parse(reply.body) as { code: number; data?: { deviceSecret?: string } }
  }

  it('over HTTPS form: the C SDK 3.x request registers; its sign with one character changed gets 401', async () => {
    await using emu = await registrationEmulator(R.productKey, R.productSecret, R.deviceName)
    const sign = /sign=([0-9A-F]+)/.exec(R.httpsForm)?.[1] ?? ''
    expect(await post(emu, R.httpsForm.replace(sign, flipHex(sign)))).toMatchObject({ code: 401 })
    const reply = await post(emu, R.httpsForm)
    expect(reply).toMatchObject({
      code: 200,
      data: { deviceSecret: emu.device(R.productKey, R.deviceName)?.deviceSecret },
    })
  })

  it('over HTTPS form: the vendor Node SDK request (HMAC-SHA1) registers; changed, it gets 401', async () => {
    const { form, productSecret } = VENDOR.registration
    await using emu = await registrationEmulator(form.productKey ?? '', productSecret, form.deviceName ?? '')
    const changed = new URLSearchParams({ ...form, sign: flipHex(form.sign ?? '') }).toString()
    expect(await post(emu, changed)).toMatchObject({ code: 401 })
    expect(await post(emu, new URLSearchParams(form).toString())).toMatchObject({ code: 200 })
  })

  it('over MQTT: the C SDK 3.x CONNECT registers and gets /ext/register; changed, CONNACK 4', async () => {
    await using emu = await registrationEmulator(R.productKey, R.productSecret, R.deviceName)
    expect(await refusalCode(emu.mqttUrl, { ...R.mqtt, password: flipHex(R.mqtt.password) })).toBe(4)
    const c = client(emu.mqttUrl, { ...R.mqtt, clean: true })
    const pushed = new Promise<string>((resolve) => c.once('message', (topic) => resolve(topic)))
    const gone = closed(c)
    expect(await pushed).toBe('/ext/register')
    await gone
    expect(emu.device(R.productKey, R.deviceName)?.deviceSecret).toMatch(/^[0-9a-f]{32}$/)
  })
})

/** The signed fields of a gateway entry. */
function pick(entry: Record<string, string>) {
  return { clientId: entry.clientId, timestamp: entry.timestamp, sign: entry.sign }
}
