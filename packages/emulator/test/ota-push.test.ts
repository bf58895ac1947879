import { createHash } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { Emulator } from '../src/index.js'
import { closed, DEVICE, DN, PK } from './helpers.js'
import { device, image, nextJson, PROGRESS, send, topicsOf, UPGRADE } from './ota-helpers.js'

const SENTINEL = `/ext/ntp/${PK}/${DN}/response`

describe('emu.ota.push', () => {
  it('pushes the exact upgrade message to an online device', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const data = image(3000)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data })
    const c = await device(emu, { ss: true })
    const message = nextJson(c, UPGRADE)
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const push = await message
    const md5 = createHash('md5').update(data).digest('hex')
    expect(Object.keys(push).sort()).toEqual(['code', 'data', 'id', 'message'])
    expect(push.code).toBe('1000')
    expect(push.message).toBe('success')
    expect(typeof push.id).toBe('number')
    expect(push.data).toEqual({
      size: 3000,
      version: '2.0.0',
      url: fw.url,
      md5,
      sign: md5,
      signMethod: 'Md5',
    })
    expect(fw.url).toMatch(new RegExp(`^${emu.httpUrl}/ota/[^?]+\\?Expires=\\d+&Signature=[^&]+$`))
    expect(fw.url.length).toBeLessThan(200)
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
  })

  it('sends a SHA256 package with its SHA-256 sign and the lowercase md5 still present', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const data = image(100, 3)
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data, signMethod: 'SHA256' })
    const c = await device(emu, { ss: true })
    const message = nextJson(c, UPGRADE)
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const pushed = (await message).data as Record<string, unknown>
    expect(pushed.signMethod).toBe('SHA256')
    expect(pushed.sign).toBe(createHash('sha256').update(data).digest('hex'))
    expect(pushed.md5).toBe(createHash('md5').update(data).digest('hex'))
    expect(pushed.md5).toMatch(/^[0-9a-f]{32}$/)
  })

  it('names a non-default module and carries isDiff and extData', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const extData = { key1: 'value1', _package_udi: '{"ota_notice":"x"}' }
    const fw = await emu.ota.addFirmware({
      productKey: PK,
      version: 'mcu-1.1',
      data: image(64),
      module: 'MCU',
      isDiff: true,
      extData,
    })
    const c = await device(emu, { ss: true })
    const message = nextJson(c, UPGRADE)
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const pushed = (await message).data as Record<string, unknown>
    expect(pushed).toMatchObject({ module: 'MCU', isDiff: 1, extData, version: 'mcu-1.1', size: 64 })
    expect(emu.ota.jobs({ productKey: PK, deviceName: DN })[0]?.module).toBe('MCU')
  })

  it('pushes a multi-file firmware in the 4.x files[] shape', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const a = image(10)
    const b = image(20, 5)
    const fw = await emu.ota.addFirmware({
      productKey: PK,
      version: '3.0.0',
      files: [
        { name: 'a.bin', data: a },
        { name: 'b.bin', data: b },
      ],
    })
    const c = await device(emu, { ss: true })
    const message = nextJson(c, UPGRADE)
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const pushed = (await message).data as Record<string, unknown>
    const md5 = (d: Uint8Array) => createHash('md5').update(d).digest('hex')
    expect(pushed).toEqual({
      version: '3.0.0',
      signMethod: 'Md5',
      files: [
        { fileName: 'a.bin', fileSize: 10, fileUrl: fw.files[0]?.url, fileSign: md5(a), fileMd5: md5(a) },
        { fileName: 'b.bin', fileSize: 20, fileUrl: fw.files[1]?.url, fileSign: md5(b), fileMd5: md5(b) },
      ],
    })
    expect(fw.totalSize).toBe(30)
  })

  it('keeps the job pending while the device is offline and pushes it when it connects', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    expect(job.status).toBe('pending')
    const c = await device(emu, { ss: true })
    await expect.poll(() => topicsOf(c)).toEqual([UPGRADE])
    expect(emu.ota.job(job.id)).toMatchObject({ status: 'pushed', pushCount: 1 })
  })

  it('pushes once a device without _ss subscribes to its upgrade topic', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const c = await device(emu)
    const message = nextJson(c, UPGRADE)
    await c.subscribeAsync(UPGRADE, { qos: 1 })
    expect((await message).data).toMatchObject({ version: '2.0.0' })
  })

  it('does not push twice in one connection when an _ss=1 device also subscribes', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    const c = await device(emu, { ss: true })
    await c.subscribeAsync(UPGRADE, { qos: 1 })
    const sentinel = nextJson(c, SENTINEL)
    await emu.publish(SENTINEL, '{}')
    await sentinel
    expect(topicsOf(c)).toEqual([UPGRADE, SENTINEL])
    expect(emu.ota.job(job.id)?.pushCount).toBe(1)
  })

  it('re-pushes on every reconnect until the device reports progress', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    const first = await device(emu, { ss: true })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })
    emu.kick(PK, DN)
    await closed(first)
    const second = await device(emu, { ss: true })
    await expect.poll(() => emu.ota.job(job.id)?.pushCount).toBe(2)
    const progressed = new Promise((resolve) => emu.ota.once('ota:progress', resolve))
    await send(second, PROGRESS, { id: 1, params: { step: '0', desc: '' } })
    await progressed
    emu.kick(PK, DN)
    await closed(second)
    const third = await device(emu, { ss: true })
    await send(third, PROGRESS, { id: 2, params: { step: '5' } })
    const sentinel = nextJson(third, SENTINEL)
    await emu.publish(SENTINEL, '{}')
    await sentinel
    expect(topicsOf(third)).toEqual([SENTINEL])
    expect(emu.ota.job(job.id)).toMatchObject({ status: 'upgrading', pushCount: 2 })
  })

  it('replaces a job not started yet and refuses a new one while the device upgrades', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const v2 = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image(10) })
    const v3 = await emu.ota.addFirmware({ productKey: PK, version: '3.0.0', data: image(10) })
    const old = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: v2 })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware: v3 })
    expect(emu.ota.job(old.id)).toMatchObject({ status: 'canceled', replacedBy: job.id })
    const c = await device(emu, { ss: true })
    await expect.poll(() => emu.ota.job(job.id)?.status).toBe('pushed')
    await send(c, PROGRESS, { id: 1, params: { step: '10' } })
    await emu.ota.waitForJob(job.id, 'upgrading')
    await expect(emu.ota.push({ productKey: PK, deviceName: DN, firmware: v2 })).rejects.toMatchObject({
      code: 'ERR_OTA_BUSY',
    })
  })

  it('refuses firmware of another product and unknown devices', async () => {
    await using emu = await Emulator.start({ devices: [DEVICE] })
    const fw = await emu.ota.addFirmware({ productKey: 'a1Other0000', version: '2.0.0', data: image(10) })
    await expect(emu.ota.push({ productKey: PK, deviceName: DN, firmware: fw })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
    await expect(
      emu.ota.push({ productKey: 'a1Other0000', deviceName: 'nobody', firmware: fw }),
    ).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' })
    await expect(emu.ota.addFirmware({ productKey: PK, version: '', data: image(1) })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })
})
