import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { FlashSimPersistence } from '@linkkit/sdk'
import { tempDir } from '@linkkit/testing/temp-dir'
import { describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { eventually, memoryIo } from './cli-helpers.js'

const lamp = {
  productKey: 'a1SecPersist',
  deviceName: 'lamp-1',
  deviceSecret: 'sec-persist-secret-0123456789',
}

describe('linkkit device --persistence flash: with a multi-file offer (finding 5)', () => {
  it('refuses it before any byte with -4, and keeps booting its own firmware', async () => {
    await using dir = await tempDir('linkkit-sec-persist-')
    await using emu = await Emulator.start({ devices: [lamp] })
    const path = join(dir.path, 'flash.bin')
    const ctrlC = new AbortController()
    const io = memoryIo({ signal: ctrlC.signal })
    const exited = runCli(
      [
        'device',
        ...['--product', lamp.productKey, '--device', lamp.deviceName, '--secret', lamp.deviceSecret],
        ...['--broker', emu.mqttUrl, '--persistence', `flash:${path}`, '--allow-http', '--version', '1.0.0'],
        '--json',
      ],
      io,
    )
    const events = () =>
      io.out
        .join('')
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    await eventually(() => events().some((e) => e.event === 'connected'), 'connected')
    const firmware = await emu.ota.addFirmware({
      productKey: lamp.productKey,
      version: '2.0.0',
      files: [
        { name: 'app.bin', data: randomBytes(50_000) },
        { name: 'res.bin', data: randomBytes(20_000) },
      ],
    })
    const job = await emu.ota.push({ productKey: lamp.productKey, deviceName: lamp.deviceName, firmware })
    const failed = await emu.ota.waitForJob(job.id, 'failed', 5000)
    expect(failed.failure?.step).toBe(-4)
    await eventually(() => events().some((e) => e.event === 'fota:failed'), 'fota:failed')
    expect(events().find((e) => e.event === 'fota:failed')?.reason).toMatch(/^ERR_PERSISTENCE: /)
    expect(emu.ota.stats(firmware, 'app.bin').requests + emu.ota.stats(firmware, 'res.bin').requests).toBe(0)
    expect(events().some((e) => e.event === 'reboot')).toBe(false)
    ctrlC.abort()
    expect(await exited).toBe(0)
    // The flash boots its factory image, and nothing else is staged to be activated.
    await using flash = new FlashSimPersistence({ path, slotSizeBytes: 4 * 1024 * 1024 })
    expect(await flash.boot()).toMatchObject({ version: '1.0.0', rolledBack: false })
    expect(await flash.readStaged()).toBeUndefined()
  })
})
