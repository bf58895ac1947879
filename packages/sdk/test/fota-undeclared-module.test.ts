import { Emulator } from '@linkkit/emulator'
import { SpyPersistence } from '@linkkit/testing/persistence'
import { describe, expect, it } from 'vitest'
import {
  type Device,
  type FirmwareOffer,
  type FotaOptions,
  isLinkkitError,
  type LinkkitError,
  linkkit,
  MemoryPersistence,
} from '../src/index.js'

const device = {
  productKey: 'a1ModLamp01',
  deviceName: 'mod-lamp-1',
  deviceSecret: '0123456789abcdef0123456789abcdef',
}
const image = Uint8Array.from({ length: 40_000 }, (_, i) => (i * 7) & 0xff)
const REASON = 'module mcu is not declared on this device'

async function open(emu: Emulator, firmware: FotaOptions): Promise<Device> {
  return linkkit.open({ ...device, brokerUrl: emu.mqttUrl, requestTimeoutMs: 3000, firmware }).connect()
}

function next<T>(d: Device, event: 'fota' | 'error'): Promise<T> {
  return new Promise((resolve) => d.once(event, (arg: unknown) => resolve(arg as T)))
}

/** Pushes firmware of module `mcu` and returns the job and its firmware. */
async function pushMcu(emu: Emulator) {
  const firmware = await emu.ota.addFirmware({
    productKey: device.productKey,
    version: '2.0.0',
    data: image,
    module: 'mcu',
  })
  const job = await emu.ota.push({ productKey: device.productKey, deviceName: device.deviceName, firmware })
  return { firmware, job }
}

describe('an offer for a module the device did not declare', () => {
  it('download() reports -1 with the reason, emits error, rejects ERR_MODULE_UNDECLARED and touches no adapter', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const main = new SpyPersistence(new MemoryPersistence())
    const wifi = new SpyPersistence(new MemoryPersistence())
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: main,
      allowHttp: true,
      modules: { wifi: { version: '1.0', persistence: wifi } },
    })
    const offered = next<FirmwareOffer>(d, 'fota')
    const { firmware, job } = await pushMcu(emu)
    const offer = await offered
    expect(offer.module).toBe('mcu')
    const errorEvent = next<LinkkitError>(d, 'error')
    const err = await d.fota.download(offer).catch((e: unknown) => e)
    expect(isLinkkitError(err, 'ERR_MODULE_UNDECLARED')).toBe(true)
    expect((err as LinkkitError).details).toMatchObject({ module: 'mcu', version: '2.0.0' })
    expect(await errorEvent).toBe(err)
    const failed = await emu.ota.waitForJob(job.id, 'failed')
    expect(failed.failure).toEqual({ step: -1, desc: REASON })
    const progress = emu.device(device.productKey, device.deviceName)?.ota?.progress ?? []
    expect(progress.map((p) => [p.module, p.step, p.desc])).toEqual([['mcu', -1, REASON]])
    expect(main.calls).toEqual([])
    expect(wifi.calls).toEqual([])
    expect(emu.ota.stats(firmware).requests).toBe(0)
  })

  it('autoDownload refuses it the same way, while a declared module downloads', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const main = new SpyPersistence(new MemoryPersistence())
    const wifi = new SpyPersistence(new MemoryPersistence())
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: main,
      allowHttp: true,
      autoDownload: true,
      modules: { wifi: { version: '1.0', persistence: wifi } },
    })
    const errors: LinkkitError[] = []
    d.on('error', (e) => errors.push(e))
    const { firmware, job } = await pushMcu(emu)
    const failed = await emu.ota.waitForJob(job.id, 'failed')
    expect(failed.failure).toEqual({ step: -1, desc: REASON })
    await expect.poll(() => errors.length).toBe(1)
    expect(errors[0]?.code).toBe('ERR_MODULE_UNDECLARED')
    expect(main.calls).toEqual([])
    expect(wifi.calls).toEqual([])
    expect(emu.ota.stats(firmware).requests).toBe(0)

    // The declared module goes through to its own adapter.
    const wifiFw = await emu.ota.addFirmware({
      productKey: device.productKey,
      version: '1.1',
      data: image,
      module: 'wifi',
    })
    const wifiJob = await emu.ota.push({
      productKey: device.productKey,
      deviceName: device.deviceName,
      firmware: wifiFw,
    })
    await expect.poll(() => emu.ota.job(wifiJob.id)?.step).toBe(100)
    expect(wifi.bytesWritten).toBe(image.length)
    expect(main.calls).toEqual([])
    expect(errors).toHaveLength(1)
  })

  it('is taken when the application names an adapter for it: download(offer, { persistence })', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using d = await open(emu, { version: '1.0.0', allowHttp: true, autoDownload: true })
    const errors: LinkkitError[] = []
    d.on('error', (e) => errors.push(e))
    const spare = new SpyPersistence(new MemoryPersistence())
    const result = new Promise((resolve, reject) => {
      // Called synchronously from the `fota` event: autoDownload sees the module busy and stays out.
      d.on('fota', (offer) => void d.fota.download(offer, { persistence: spare }).then(resolve, reject))
    })
    const { job } = await pushMcu(emu)
    expect(await result).toMatchObject({ bytes: image.length, module: 'mcu' })
    expect(spare.bytesWritten).toBe(image.length)
    expect(emu.ota.job(job.id)?.status).not.toBe('failed')
    expect(errors).toEqual([])
  })
})
