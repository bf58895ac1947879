import { describe, expect, it } from 'vitest'
import { Emulator } from '../../src/index.js'
import { A, aWithClientIdOf, B, own, SET_B } from '../client-id-theft.js'
import { client, closed, connect, nextMessage, refusalCode } from '../helpers.js'

/**
 * Finding 2 of issue 10: aedes keyed sessions by the raw clientId, so device A, logging in with its
 * own valid credentials but device B's clientId, kicked B and (clean=false) took what was queued for B.
 */

describe('attack: session takeover by clientId (issue 10, finding 2)', () => {
  it('A with its own credentials and the clientId of an online B is refused; B stays connected', async () => {
    await using emu = await Emulator.start({ devices: [A, B] })
    const refusals: number[] = []
    emu.on('connect:refused', (info) => refusals.push(info.returnCode))
    const b = await connect(emu.mqttUrl, own(B))
    await b.subscribeAsync(SET_B, { qos: 1 })
    let bClosed = false
    b.on('close', () => {
      bClosed = true
    })

    expect(await refusalCode(emu.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)
    expect(refusals).toEqual([2])

    // B's connection still works end to end.
    const message = nextMessage(b, SET_B)
    await emu.publish(SET_B, '{"id":"1","params":{}}', { qos: 1 })
    expect((await message).payload.toString()).toBe('{"id":"1","params":{}}')
    expect(bClosed).toBe(false)
    expect(emu.device(B.productKey, B.deviceName)).toMatchObject({ online: true, connectCount: 1 })
    expect(emu.device(A.productKey, A.deviceName)).toMatchObject({ online: false, connectCount: 0 })
  })

  it('A cannot pick up what was queued for an offline B (clean=false); B reconnecting still gets it', async () => {
    await using emu = await Emulator.start({ devices: [A, B] })
    const b = await connect(emu.mqttUrl, own(B))
    await b.subscribeAsync(SET_B, { qos: 1 })
    const gone = closed(b)
    await b.endAsync()
    await gone
    await emu.publish(SET_B, '{"id":"queued","params":{"secret":"for B only"}}', { qos: 1 })

    // With clean=false (the session would be resumed) and with clean=true (it would be wiped).
    expect(await refusalCode(emu.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)
    expect(await refusalCode(emu.mqttUrl, { ...aWithClientIdOf(own(B)), clean: true })).toBe(2)

    // The same device resumes its own session, as on the platform.
    const again = client(emu.mqttUrl, { ...own(B), manualConnect: true })
    const queued = nextMessage(again, SET_B)
    again.connect()
    expect((await queued).payload.toString()).toContain('"id":"queued"')
  })

  it("A cannot claim B's clientId before B ever connected, so B is never locked out", async () => {
    await using emu = await Emulator.start({ devices: [A, B] })
    // credentials() names the device in the base (`${pk}.${dn}`), as the C SDKs do.
    expect(await refusalCode(emu.mqttUrl, aWithClientIdOf(own(B)))).toBe(2)
    const b = await connect(emu.mqttUrl, own(B))
    expect(b.connected).toBe(true)
  })

  it('the same device taking over its own clientId still kicks its older connection', async () => {
    await using emu = await Emulator.start({ devices: [A, B] })
    const first = await connect(emu.mqttUrl, own(B))
    const firstClosed = closed(first)
    const second = await connect(emu.mqttUrl, own(B))
    await firstClosed
    expect(second.connected).toBe(true)
    expect(emu.device(B.productKey, B.deviceName)).toMatchObject({ online: true, connectCount: 2 })
  })
})
