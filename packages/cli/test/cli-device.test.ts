import { createHash, randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { loadThingModel } from '@linkkit/sdk'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { runCli } from '../src/cli.js'
import { eventually, LAMP_TSL, memoryIo } from './cli-helpers.js'

const PK = 'a1LampCli01'
const DN = 'lamp-cli'
const DS = 'cli-secret-0123456789abcdef'

let dir = ''
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-cli-device-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Starts `linkkit device` in-process; `stop()` is Ctrl-C and resolves with the exit code. */
function startDevice(emu: Emulator, extra: string[]) {
  const ctrlC = new AbortController()
  const io = memoryIo({ signal: ctrlC.signal })
  const argv = [
    'device',
    '--product',
    PK,
    '--device',
    DN,
    '--secret',
    DS,
    '--broker',
    emu.mqttUrl,
    '--json',
    ...extra,
  ]
  const exited = runCli(argv, io)
  const events = () =>
    io.out
      .join('')
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
  const next = async (event: string, where: (e: Record<string, unknown>) => boolean = () => true) => {
    await eventually(() => events().some((e) => e.event === event && where(e)), event)
    return events().find((e) => e.event === event && where(e)) as Record<string, unknown>
  }
  return {
    io,
    events,
    next,
    exited,
    stop: () => {
      ctrlC.abort()
      return exited
    },
  }
}

describe('linkkit device', () => {
  it('posts TSL-valid properties, answers services validly and keeps what the cloud sets', async () => {
    await using emu = await Emulator.start({
      devices: [{ productKey: PK, deviceName: DN, deviceSecret: DS }],
    })
    const model = await loadThingModel(LAMP_TSL)
    await emu.setThingModel(PK, LAMP_TSL)
    const device = startDevice(emu, ['--tsl', LAMP_TSL, '--interval-ms', '100'])
    const connected = await device.next('connected')
    expect(connected).toMatchObject({
      productKey: PK,
      deviceName: DN,
      version: '1.0.0',
      persistence: 'memory',
    })
    await device.next('posted')
    const reported = emu.device(PK, DN)?.properties ?? {}
    expect(Object.keys(reported).sort()).toEqual(model.properties.map((p) => p.identifier).sort())
    for (const serviceId of ['wakeup', 'Blink']) {
      const reply = await emu.invokeService(PK, DN, serviceId, {})
      expect(reply.code).toBe(200)
      expect(() => model.validateServiceOutput(serviceId, reply.data)).not.toThrow()
    }
    expect((await emu.setProperties(PK, DN, { Brightness: 7 })).code).toBe(200)
    await device.next('posted', (e) => (e.properties as Record<string, unknown>).Brightness === 7)
    expect(device.events().some((e) => e.event === 'service' && e.serviceId === 'Blink')).toBe(true)
    expect(await device.stop()).toBe(0)
    expect(device.events().at(-1)).toEqual({ event: 'closed' })
    expect(emu.device(PK, DN)?.online).toBe(false)
    const printed = device.io.out.join('') + device.io.err.join('')
    expect(printed).not.toContain(DS)
    expect(device.events()[0]).toMatchObject({ event: 'starting', deviceSecret: '<redacted>' })
  })

  it('downloads an offer into a file, reboots into it and informs the new version', async () => {
    await using emu = await Emulator.start({
      devices: [{ productKey: PK, deviceName: DN, deviceSecret: DS }],
    })
    const target = join(dir, 'firmware.bin')
    const device = startDevice(emu, ['--persistence', `file:${target}`, '--allow-http', '--version', '2.0.0'])
    await device.next('connected')
    const data = randomBytes(200_000)
    const firmware = await emu.ota.addFirmware({
      productKey: PK,
      version: '2.1.0',
      data,
      signMethod: 'SHA256',
    })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware })
    expect((await emu.ota.waitForJob(job.id, 'succeeded', 10_000)).status).toBe('succeeded')
    expect(
      createHash('sha256')
        .update(await readFile(target))
        .digest('hex'),
    ).toBe(firmware.sha256)
    await device.next('connected', (e) => e.version === '2.1.0')
    const kinds = device.events().map((e) => e.event)
    expect(kinds).toEqual(
      expect.arrayContaining(['fota:offer', 'fota:progress', 'fota:downloaded', 'reboot']),
    )
    expect(
      device
        .events()
        .filter((e) => e.event === 'fota:progress')
        .at(-1),
    ).toMatchObject({ percent: 100 })
    expect(emu.device(PK, DN)?.version).toBe('2.1.0')
    expect(await device.stop()).toBe(0)
  })

  it('refuses a plain-http offer without --allow-http and says how to accept it', async () => {
    await using emu = await Emulator.start({
      devices: [{ productKey: PK, deviceName: DN, deviceSecret: DS }],
    })
    const device = startDevice(emu, [])
    await device.next('connected')
    const firmware = await emu.ota.addFirmware({ productKey: PK, version: '1.1.0', data: randomBytes(100) })
    const job = await emu.ota.push({ productKey: PK, deviceName: DN, firmware })
    const failed = await device.next('fota:failed')
    expect(failed.reason).toMatch(/^ERR_HTTP_NOT_ALLOWED: /)
    expect((await emu.ota.waitForJob(job.id, 'failed', 5000)).status).toBe('failed')
    expect(await device.stop()).toBe(0)
  })

  it('exits 1 with one line when the platform refuses the secret', async () => {
    await using emu = await Emulator.start({
      devices: [{ productKey: PK, deviceName: DN, deviceSecret: 'another' }],
    })
    const device = startDevice(emu, [])
    expect(await device.exited).toBe(1)
    expect(device.io.err.join('')).toMatch(/^linkkit device: ERR_CONNACK_BAD_CREDENTIALS: [^\n]+\n$/)
  })
})
