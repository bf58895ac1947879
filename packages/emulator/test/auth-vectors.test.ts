import { describe, expect, it } from 'vitest'
import { verifyConnect } from '../src/auth.js'
import { Emulator } from '../src/index.js'
import { DeviceRegistry } from '../src/registry.js'
import { hmacMatches } from '../src/signing/hmac.js'
import { signContent } from '../src/signing/sign-content.js'
import { connect, refusalCode } from './helpers.js'
import { type ConnectVector, CSDK, flipHex, type Triple, VENDOR, VENDOR_DEVICE } from './vectors.js'

/**
 * The emulator's CONNECT verifier against fixed vectors from the vendor Node SDK and the C SDK 3.x
 * (vectors.ts says where they come from) and the test vectors of docs/protocol.md §1.2: each
 * accepted vector is also refused once one character of what it signs changes.
 */

/** `text` with the digit at `index` changed, e.g. the last digit of a timestamp. */
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
