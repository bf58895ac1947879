import { readFileSync } from 'node:fs'
import got from 'got'
import { describe, expect, it } from 'vitest'
import { verifyConnect } from '../src/auth.js'
import { verifySign } from '../src/gateway/signatures.js'
import { Emulator } from '../src/index.js'
import { DeviceRegistry } from '../src/registry.js'
import { hmacMatches } from '../src/signing/hmac.js'
import { signContent } from '../src/signing/sign-content.js'
import { GW, GW_PRODUCT, gatewayClient, request, session, sys } from './gateway-helpers.js'
import { client, closed, connect, refusalCode } from './helpers.js'

/**
 * The emulator's verifier against signatures made by clients nobody here wrote, stored as fixed
 * vectors: no test calls a signer, neither linkkit's nor a vendor's.
 *
 * - fixtures/vendor-sdk-vectors.json: the vendor Node SDK 1.2.8 (`alibabacloud-iot-device-sdk`),
 *   printed once by fixtures/make-vendor-sdk-vectors.mjs with its clock stopped.
 * - fixtures/c-sdk-vectors.json: the C SDK 3.x (v3.2.0) compiled from its own sources; how is in the
 *   file's `source`.
 * - The test vectors of docs/protocol.md §1.2, copied from the page.
 *
 * Each accepted vector is also refused once one character of what it signs changes.
 */

interface ConnectVector {
  name: string
  clientId: string
  username: string
  password: string
}
interface VendorConnect extends ConnectVector {
  config: { clientId?: string; signAlgorithm?: string }
  platformAccepts: boolean
}
interface VendorVectors {
  connect: VendorConnect[]
  subDevice: { device: Triple; signed: Record<string, string | number> }
  registration: { productSecret: string; form: Record<string, string> }
}
interface CVectors {
  connect: Array<ConnectVector & { deviceSecret: string }>
  gateway: {
    subDevice: Triple & { productSecret: string }
    topoAdd: Array<Record<string, string>>
    login: Record<string, string>
    productRegister: { proxieds: Array<Record<string, string>> }
  }
  registration: {
    productKey: string
    deviceName: string
    productSecret: string
    httpsForm: string
    mqtt: { clientId: string; username: string; password: string }
  }
}
interface Triple {
  productKey: string
  deviceName: string
  deviceSecret: string
}

const fixture = <T>(name: string): T =>
  JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T
const VENDOR = fixture<VendorVectors>('vendor-sdk-vectors.json')
const CSDK = fixture<CVectors>('c-sdk-vectors.json')

/** The vendor vectors' device (the same in every CONNECT vector). */
const VENDOR_DEVICE: Triple = {
  productKey: 'a1NodeVec01',
  deviceName: 'vendor-lamp',
  deviceSecret: 'VendorDeviceSecret00000000000001',
}

/** Another hex digit in place of the one at `at` (the last by default): a one-character change. */
function flipHex(hex: string, at = hex.length - 1): string {
  const digit = hex.charAt(at)
  const other = digit === '0' ? '1' : '0'
  return hex.slice(0, at) + other + hex.slice(at + 1)
}

/** `text` with the digit after `after` changed, e.g. the timestamp's last digit. */
function bumpDigitAt(text: string, index: number): string {
  const digit = Number(text.charAt(index))
  if (!Number.isInteger(digit)) throw new Error(`no digit at ${index} of ${text}`)
  return text.slice(0, index) + String((digit + 1) % 10) + text.slice(index + 1)
}

function registryOf(...devices: Triple[]): DeviceRegistry {
  const registry = new DeviceRegistry()
  for (const d of devices) registry.addDevice(d)
  return registry
}

function verdict(registry: DeviceRegistry, v: ConnectVector) {
  return verifyConnect(
    { clientId: v.clientId, username: v.username, password: Buffer.from(v.password), keepaliveSeconds: 60 },
    registry,
    30,
  )
}

/** The one-character changes of a CONNECT that must each break its signature. */
function connectMutations(v: ConnectVector): Array<[string, ConnectVector]> {
  const bar = v.clientId.indexOf('|')
  const ts = /timestamp=(\d+)/.exec(v.clientId)
  const mutations: Array<[string, ConnectVector]> = [
    ['password, last hex digit', { ...v, password: flipHex(v.password) }],
    ['password, first hex digit', { ...v, password: flipHex(v.password, 0) }],
    [
      'clientId base, last character',
      { ...v, clientId: `${v.clientId.slice(0, bar - 1)}X${v.clientId.slice(bar)}` },
    ],
  ]
  if (ts !== null) {
    const last = ts.index + ts[0].length - 1
    mutations.push(['signed timestamp, last digit', { ...v, clientId: bumpDigitAt(v.clientId, last) }])
  }
  return mutations
}

describe('vendor Node SDK 1.2.8: CONNECT vectors', () => {
  const registry = registryOf(VENDOR_DEVICE)

  it.each(VENDOR.connect.map((v) => [v.name, v] as const))('%s', (_, v) => {
    const result = verdict(registry, v)
    if (!v.platformAccepts) {
      // The SDK announces the method but always signs HMAC-SHA1; the platform checks the announced one.
      expect(result).toMatchObject({ kind: 'refused', returnCode: 4, reason: 'signature mismatch' })
      return
    }
    expect(result).toMatchObject({ kind: 'device', identity: { productKey: 'a1NodeVec01' } })
    for (const [what, changed] of connectMutations(v)) {
      expect([what, verdict(registry, changed)]).toMatchObject([what, { kind: 'refused', returnCode: 4 }])
    }
    // `lan` is not signed: a change there still passes, as on the platform.
    const lan = v.clientId.replace(/lan=[^,|]+/, 'lan=C')
    expect(verdict(registry, { ...v, clientId: lan }).kind).toBe('device')
  })

  it('keeps the bar inside `lan=JS|WX` as part of the parameter (mini-program clientIds)', () => {
    const wx = VENDOR.connect.find((v) => v.clientId.includes('lan=JS|WX'))
    expect(verdict(registry, wx as ConnectVector)).toMatchObject({
      kind: 'device',
      clientParams: { lan: 'JS|WX', _v: '1.2.8', timestamp: '1767225600000' },
    })
  })

  it('over MQTT: each vector the platform takes connects, the others and one changed character get CONNACK 4', async () => {
    await using emu = await Emulator.start({ devices: [VENDOR_DEVICE] })
    for (const v of VENDOR.connect) {
      const { clientId, username, password } = v
      if (!v.platformAccepts) {
        expect([v.name, await refusalCode(emu.mqttUrl, { clientId, username, password })]).toEqual([
          v.name,
          4,
        ])
        continue
      }
      const c = await connect(emu.mqttUrl, { clientId, username, password })
      await c.endAsync()
      const changed = { clientId, username, password: flipHex(password) }
      expect([v.name, await refusalCode(emu.mqttUrl, changed)]).toEqual([v.name, 4])
    }
  })
})

describe('C SDK 3.x: CONNECT vectors', () => {
  const devices = CSDK.connect.map((v) => {
    const [deviceName = '', productKey = ''] = v.username.split('&')
    return { productKey, deviceName, deviceSecret: v.deviceSecret }
  })
  const registry = registryOf(...devices)

  it.each(CSDK.connect.map((v) => [v.name, v] as const))('%s', (_, v) => {
    expect(v.password).toMatch(/^[0-9A-F]{64}$/)
    expect(verdict(registry, v)).toMatchObject({
      kind: 'device',
      clientParams: { timestamp: '2524608000000' },
    })
    expect(verdict(registry, { ...v, password: v.password.toLowerCase() }).kind).toBe('device')
    for (const [what, changed] of connectMutations(v)) {
      expect([what, verdict(registry, changed)]).toMatchObject([what, { kind: 'refused', returnCode: 4 }])
    }
  })

  it('over MQTT: the CONNECT of the docs/emulator.md run connects byte for byte, a changed one gets CONNACK 4', async () => {
    await using emu = await Emulator.start({ devices })
    for (const { clientId, username, password } of CSDK.connect) {
      const c = await connect(emu.mqttUrl, { clientId, username, password })
      await c.endAsync()
      expect(await refusalCode(emu.mqttUrl, { clientId, username, password: flipHex(password, 10) })).toBe(4)
    }
  })

  it('builds the sign content of docs/protocol.md §1.2 and checks its HMACs', () => {
    const fields = { clientId: 'a1B2c3D4e5F.device001', deviceName: 'device001', productKey: 'a1B2c3D4e5F' }
    const ds = '0123456789abcdef0123456789abcdef'
    const content = signContent({ ...fields, timestamp: '1700000000000' })
    expect(content).toBe(
      'clientIda1B2c3D4e5F.device001deviceNamedevice001productKeya1B2c3D4e5Ftimestamp1700000000000',
    )
    expect(hmacMatches('hmacmd5', ds, content, '2eaaea19f3b2e8048fc6a2fc91192377')).toBe(true)
    expect(hmacMatches('hmacsha1', ds, content, '86e3c0ec4492519ea08cb35967535d1e52f02828')).toBe(true)
    const sha256 = 'b7cccab498067bd13f5226e47e1b25fe2ceaac40dfdebb04ddd087a52a17edc1'
    expect(hmacMatches('hmacsha256', ds, content, sha256)).toBe(true)
    expect(hmacMatches('hmacsha256', ds, content, sha256.toUpperCase())).toBe(true)
    expect(hmacMatches('hmacsha256', ds, content, flipHex(sha256))).toBe(false)
    // The same hex under another method's name, or cut short, is no match.
    expect(hmacMatches('hmacsha1', ds, content, sha256)).toBe(false)
    expect(hmacMatches('hmacsha256', ds, content, sha256.slice(0, 62))).toBe(false)
    const fixed = signContent({ ...fields, timestamp: '2524608000000' })
    const fixedHex = 'BDB70E33C15D0B3E023E82AB6DD5DE625AD959B167044448A661E2A140C0DFA0'
    expect(hmacMatches('hmacsha256', ds, fixed, fixedHex)).toBe(true)
    const bare = signContent(fields)
    expect(bare).toBe('clientIda1B2c3D4e5F.device001deviceNamedevice001productKeya1B2c3D4e5F')
    expect(hmacMatches('hmacsha1', ds, bare, '2210aa570dbe16bcf711b12373cfbec8cc5f225c')).toBe(true)
  })
})

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
