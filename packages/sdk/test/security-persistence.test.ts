import { randomBytes } from 'node:crypto'
import { existsSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { tempDir } from '@linkkit/testing/temp-dir'
import { describe, expect, it } from 'vitest'
import { FilePersistence, type FirmwareOffer, linkkit } from '../src/index.js'

const lamp = {
  productKey: 'a1SecPersist',
  deviceName: 'lamp-1',
  deviceSecret: 'sec-persist-secret-0123456789',
}

describe('device.close() during a download (finding 6)', () => {
  it('keeps the bytes so far; the next device resumes the same job and fetches only the rest', async () => {
    await using dir = await tempDir('linkkit-sec-persist-')
    await using emu = await Emulator.start({ devices: [lamp] })
    const path = join(dir.path, 'ota.bin')
    const size = 1024 * 1024
    const data = randomBytes(size)
    const firmware = await emu.ota.addFirmware({ productKey: lamp.productKey, version: '1.1.0', data })
    emu.faults.firmware.for(firmware).throttle(2 * size)

    const first = await linkkit
      .open({
        ...lamp,
        brokerUrl: emu.mqttUrl,
        firmware: { version: '1.0.0', persistence: new FilePersistence({ path }), allowHttp: true },
      })
      .connect()
    const offered = new Promise<FirmwareOffer>((resolve) => first.once('fota', resolve))
    const job = await emu.ota.push({ productKey: lamp.productKey, deviceName: lamp.deviceName, firmware })
    const offer = await offered
    const halfway = new Promise<void>((resolve) =>
      first.on('fota:progress', (p) => {
        if (p.bytes > 400_000) resolve()
      }),
    )
    const running = first.fota.download(offer).catch((e: unknown) => e)
    await halfway
    await first.close()
    expect(await running).toMatchObject({ name: 'LinkkitError', code: 'ERR_CLOSED' })
    expect(existsSync(path), 'the target is untouched').toBe(false)
    // No failure step: the platform's job is still in progress, waiting for the device to come back.
    expect(emu.ota.job(job.id)?.status).toBe('upgrading')
    // The server notices the closed device's socket a moment after the device let go.
    await expect.poll(() => emu.ota.stats(firmware).sending, { timeout: 3000 }).toBe(0)
    const sent = emu.ota.stats(firmware).bytesSent

    const persistence = new FilePersistence({ path })
    await using second = await linkkit
      .open({ ...lamp, brokerUrl: emu.mqttUrl, firmware: { version: '1.0.0', persistence, allowHttp: true } })
      .connect()
    emu.faults.firmware.for(firmware).clear()
    const again = await second.fota.request()
    expect(again?.version).toBe('1.1.0')
    const result = await second.fota.download(again as FirmwareOffer)
    expect(result.resumedBytes).toBeGreaterThan(300_000)
    expect(emu.ota.stats(firmware).bytesSent - sent, 'bytes served to the second device').toBe(
      size - result.resumedBytes,
    )
    expect((await readFile(path)).equals(data)).toBe(true)
    await second.fota.reportVersion('1.1.0')
    await emu.ota.waitForJob(job.id, 'succeeded', 5000)
  })
})
