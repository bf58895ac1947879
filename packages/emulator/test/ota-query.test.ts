import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { DEVICE, DN, PK } from './helpers.js'
import {
  device,
  FIRMWARE_GET,
  INFORM,
  image,
  informCount,
  nextJson,
  REQUEST,
  send,
  topicsOf,
  UPGRADE,
} from './ota-helpers.js'

const GET_REPLY = `${FIRMWARE_GET}_reply`
const SENTINEL = `/ext/ntp/${PK}/${DN}/response`

describe('firmware query and legacy request', () => {
  it('answers thing.ota.firmware.get with empty data when nothing is pending', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await device(emu, { ss: true })
    const reply = nextJson(c, GET_REPLY)
    await send(c, FIRMWARE_GET, { id: 5, params: {} })
    expect(await reply).toMatchObject({ id: '5', code: 200, data: {} })
  })

  it('answers with the push data of the pending job of that module', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.1', data: image(50), module: 'MCU' })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const c = await device(emu)
    await c.subscribeAsync(GET_REPLY, { qos: 1 })
    const none = nextJson(c, GET_REPLY)
    await send(c, FIRMWARE_GET, '{"id":1, "params":{}}')
    expect((await none).data).toEqual({})
    const offer = nextJson(c, GET_REPLY)
    await send(c, FIRMWARE_GET, {
      id: 'abc',
      version: '1.0',
      params: { module: 'MCU' },
      method: 'thing.ota.firmware.get',
    })
    expect(await offer).toEqual({
      id: 'abc',
      code: 200,
      data: {
        size: 50,
        version: '2.1',
        url: fw.url,
        md5: fw.md5,
        sign: fw.md5,
        signMethod: 'Md5',
        module: 'MCU',
      },
      message: 'success',
      method: 'thing.ota.firmware.get',
      version: '1.0',
    })
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
  })

  it('re-sends the offer on /ota/device/upgrade for a legacy request, and nothing without a job', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const c = await device(emu, { ss: true })
    await send(c, REQUEST, { id: '0', params: { version: '1.0.0' } })
    const sentinel = nextJson(c, SENTINEL)
    await emu.publish(SENTINEL, '{}')
    await sentinel
    expect(topicsOf(c)).toEqual([SENTINEL])
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(8) })
    const pushed = nextJson(c, UPGRADE)
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    await pushed
    const again = nextJson(c, UPGRADE)
    await send(c, REQUEST, { id: '0', params: { version: '1.0.0' } })
    expect(await again).toMatchObject({ code: '1000', message: 'success', data: { version: '2.0.0' } })
    expect(emu.ota.job(job.id)?.pushCount).toBe(2)
  })

  it('holds a job with srcVersion until the device informs that version', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(8), isDiff: true })
    const c = await device(emu, { ss: true })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw, srcVersion: '1.5.0' })
    expect(job.status).toBe('pending')
    const reply = nextJson(c, GET_REPLY)
    await send(c, FIRMWARE_GET, { id: 1, params: {} })
    expect((await reply).data).toEqual({})
    await send(c, INFORM, { id: 1, params: { version: '1.0.0' } })
    await informCount(emu, 1)
    expect(emu.ota.job(job.id)?.status).toBe('pending')
    const pushed = nextJson(c, UPGRADE)
    await send(c, INFORM, { id: 2, params: { version: '1.5.0' } })
    expect((await pushed).data).toMatchObject({ version: '2.0.0', isDiff: 1 })
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
  })
})
