import { describe, expect, it } from 'vitest'
import {
  addAndLogin,
  GW,
  gatewayClient,
  loginParams,
  request,
  SUB_PK,
  session,
  signed,
  startEmulator,
  sub,
  sys,
} from './gateway-helpers.js'
import { nextMessage } from './helpers.js'
import { image } from './ota-helpers.js'

describe('emulator gateway: sub-device OTA', () => {
  it("jobs of a sub-device travel over its gateway on the sub-device's own topics", async () => {
    await using emu = await startEmulator(2)
    const gw = await gatewayClient(emu)
    await addAndLogin(gw, [sub(1)])
    const upgrade = `/ota/device/upgrade/${SUB_PK}/sub-1`
    await gw.subscribeAsync(upgrade, { qos: 1 })
    await gw.publishAsync(
      `/ota/device/inform/${SUB_PK}/sub-1`,
      JSON.stringify({ id: '1', params: { version: '1.0.0' } }),
      { qos: 1 },
    )
    await expect.poll(() => emu.device(SUB_PK, 'sub-1')?.version).toBe('1.0.0')

    const firmware = await emu.ota.addFirmware({
      productKey: SUB_PK,
      version: '1.1.0',
      data: image(2048),
      signMethod: 'Md5',
    })
    const pushed = nextMessage(gw, upgrade)
    const job = await emu.ota.push({ productKey: SUB_PK, deviceName: 'sub-1', firmware })
    expect(JSON.parse((await pushed).payload.toString())).toMatchObject({ data: { version: '1.1.0' } })
    await gw.publishAsync(
      `/ota/device/progress/${SUB_PK}/sub-1`,
      JSON.stringify({ id: '2', params: { step: '100', desc: '' } }),
      { qos: 1 },
    )
    await expect.poll(() => emu.ota.job(job.id)?.status).toBe('upgrading')
    await gw.publishAsync(
      `/ota/device/inform/${SUB_PK}/sub-1`,
      JSON.stringify({ id: '3', params: { version: '1.1.0' } }),
      { qos: 1 },
    )
    expect((await emu.ota.waitForJob(job.id, 'succeeded')).status).toBe('succeeded')

    // A job for a sub-device without a session waits; its login and subscription bring the offer.
    await request(gw, sys(GW, 'thing/topo/add'), [signed(sub(2))])
    const waiting = await emu.ota.push({ productKey: SUB_PK, deviceName: 'sub-2', firmware })
    expect(emu.ota.job(waiting.id)?.status).toBe('pending')
    expect((await request(gw, session('login'), loginParams(sub(2)))).code).toBe(200)
    const offered = nextMessage(gw, `/ota/device/upgrade/${SUB_PK}/sub-2`)
    await gw.subscribeAsync(`/ota/device/upgrade/${SUB_PK}/sub-2`, { qos: 1 })
    expect(JSON.parse((await offered).payload.toString())).toMatchObject({ data: { version: '1.1.0' } })
  })
})
