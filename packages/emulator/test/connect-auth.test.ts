import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { connect, credentials, DEVICE, DN, PK, refusalCode } from './helpers.js'
import { SIGN_METHODS } from './signing.js'

describe('CONNECT verification', () => {
  for (const signMethod of SIGN_METHODS) {
    for (const upperCase of [false, true]) {
      it(`accepts ${signMethod} with ${upperCase ? 'upper' : 'lower'}-case hex`, async () => {
        await using emu = await Emulator.start({ devices: [DEVICE] })
        const c = await connect(emu.mqttUrl, credentials({ signMethod, upperCase }))
        expect(c.connected).toBe(true)
        expect(emu.device(PK, DN)).toMatchObject({ online: true, connectCount: 1, activated: true })
      })
    }
  }

  it('accepts the 3.x CONNECT of docs/protocol.md §1.2 byte for byte', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, {
      clientId: `${PK}.${DN}|timestamp=2524608000000,_v=sdk-c-3.2.0,securemode=3,signmethod=hmacsha256,lan=C,gw=0,ext=0|`,
      username: `${DN}&${PK}`,
      password: 'BDB70E33C15D0B3E023E82AB6DD5DE625AD959B167044448A661E2A140C0DFA0',
    })
    expect(c.connected).toBe(true)
  })

  it('accepts a clientId without timestamp, signed without it', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await connect(emu.mqttUrl, credentials({ signMethod: 'hmacsha1', timestamp: undefined }))
    expect(c.connected).toBe(true)
  })

  it('accepts a real millisecond timestamp and ignores unknown clientId keys', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const creds = credentials({
      timestamp: String(Date.now()),
      params: { lan: 'C', gw: '0', weird: 'x', _v: '1' },
    })
    const c = await connect(emu.mqttUrl, creds)
    expect(c.connected).toBe(true)
    expect(emu.device(PK, DN)?.clientParams).toMatchObject({ weird: 'x', lan: 'C' })
  })

  it('refuses a bad signature with CONNACK 4', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const creds = credentials({ deviceSecret: 'not-the-secret' })
    expect(await refusalCode(emu.mqttUrl, creds)).toBe(4)
    expect(emu.device(PK, DN)).toMatchObject({ online: false, connectCount: 0 })
  })

  it('refuses a signature that left out the timestamp the clientId carries', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const unsigned = credentials({ timestamp: undefined })
    const creds = { ...unsigned, clientId: unsigned.clientId?.replace(/\|$/, ',timestamp=2524608000000|') }
    expect(await refusalCode(emu.mqttUrl, creds)).toBe(4)
  })

  it('refuses an unknown device and a disabled one with CONNACK 5', async () => {
    await using emu = await Emulator.start({ devices: [{ ...DEVICE, disabled: true }] })
    expect(await refusalCode(emu.mqttUrl, credentials({ deviceName: 'nobody' }))).toBe(5)
    expect(await refusalCode(emu.mqttUrl, credentials())).toBe(5)
    emu.setDisabled(PK, DN, false)
    expect((await connect(emu.mqttUrl, credentials())).connected).toBe(true)
  })

  it('refuses a keepalive below the minimum with CONNACK 3 unless the minimum is lowered', async () => {
    await using strict = await Emulator.start({ devices: [DEVICE] })
    expect(await refusalCode(strict.mqttUrl, { ...credentials(), keepalive: 10 })).toBe(3)
    await using lenient = await Emulator.start({ devices: [DEVICE], minKeepaliveSeconds: 5 })
    expect((await connect(lenient.mqttUrl, { ...credentials(), keepalive: 10 })).connected).toBe(true)
  })

  it('refuses a malformed username with CONNACK 4', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    expect(await refusalCode(emu.mqttUrl, { ...credentials(), username: `${PK}.${DN}` })).toBe(4)
  })

  it('emits device:online and device:offline, and connect:refused with the reason', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const events: string[] = []
    emu.on('device:online', (info) =>
      events.push(`online ${info.deviceName} ${info.clientParams.signmethod}`),
    )
    emu.on('device:offline', (info) => events.push(`offline ${info.deviceName}`))
    emu.on('connect:refused', (info) => events.push(`refused ${info.returnCode} ${info.reason}`))
    await refusalCode(emu.mqttUrl, credentials({ deviceSecret: 'wrong' }))
    const c = await connect(emu.mqttUrl, credentials())
    const offline = new Promise((resolve) => emu.once('device:offline', resolve))
    c.end()
    await offline
    expect(events).toEqual(['refused 4 signature mismatch', `online ${DN} hmacsha256`, `offline ${DN}`])
    expect(emu.device(PK, DN)?.online).toBe(false)
  })
})
