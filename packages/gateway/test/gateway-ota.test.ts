import { createHash } from 'node:crypto'
import { type FirmwareOffer, MemoryPersistence } from '@linkkit/fota'
import { describe, expect, it } from 'vitest'
import type { SubDevice } from '../src/index.js'
import { GW, gateway, SUB_PK, startEmulator, sub } from './helpers.js'

function image(size: number, seed: number): Uint8Array {
  const data = new Uint8Array(size)
  for (let i = 0; i < size; i++) data[i] = (i * seed + (i >> 9)) & 0xff
  return data
}

/** Downloads the first offer the sub-device gets; resolves with when it started and ended. */
function upgradeOnOffer(
  sd: SubDevice,
): Promise<{ offer: FirmwareOffer; startedAt: number; endedAt: number }> {
  return new Promise((resolve, reject) => {
    sd.once('fota', (offer) => {
      const startedAt = performance.now()
      sd.fota.download(offer).then(() => resolve({ offer, startedAt, endedAt: performance.now() }), reject)
    })
  })
}

describe('sub-device OTA through a gateway', () => {
  it('two sub-devices download at once into their own persistence; each job succeeds after its inform', async () => {
    await using emu = await startEmulator(2)
    await using gw = await gateway(emu)
    const stores = [new MemoryPersistence(), new MemoryPersistence()]
    const lamps = [0, 1].map((i) =>
      gw.subdevices.open({
        ...sub(i + 1),
        firmware: { version: '1.0.0', persistence: stores[i], allowHttp: true },
      }),
    )
    await gw.subdevices.connectAll()
    // Each informs its version on its own topic right after login (docs/protocol.md §3.2).
    for (const lamp of lamps) {
      await expect.poll(() => emu.device(lamp.productKey, lamp.deviceName)?.version).toBe('1.0.0')
    }
    expect(emu.device(GW.productKey, GW.deviceName)?.version).toBeUndefined()

    const data = image(192 * 1024, 7)
    const firmware = await emu.ota.addFirmware({
      productKey: SUB_PK,
      version: '1.1.0',
      data,
      signMethod: 'SHA256',
    })
    // Slow enough that the two downloads overlap.
    emu.faults.firmware.throttle(1024 * 1024)
    const upgrades = lamps.map((lamp) => upgradeOnOffer(lamp))
    const jobs = await Promise.all(
      lamps.map((lamp) => emu.ota.push({ productKey: SUB_PK, deviceName: lamp.deviceName, firmware })),
    )
    const [a, b] = await Promise.all(upgrades)
    expect(a!.startedAt).toBeLessThan(b!.endedAt)
    expect(b!.startedAt).toBeLessThan(a!.endedAt)
    const digest = createHash('sha256').update(data).digest('hex')
    for (const store of stores) {
      expect(
        createHash('sha256')
          .update(store.bytes() ?? new Uint8Array())
          .digest('hex'),
      ).toBe(digest)
    }
    for (const lamp of lamps) {
      const progress = emu.device(lamp.productKey, lamp.deviceName)?.ota?.progress ?? []
      expect(progress.length).toBeGreaterThan(0)
    }
    expect(jobs.map((j) => emu.ota.job(j.id)?.status)).toEqual(['upgrading', 'upgrading'])

    for (const lamp of lamps) await lamp.fota.reportVersion('1.1.0')
    for (const job of jobs) expect((await emu.ota.waitForJob(job.id, 'succeeded')).status).toBe('succeeded')
  })

  it('an upgrade pushed while the sub-device is logged out is offered at its next login', async () => {
    await using emu = await startEmulator(1)
    await using gw = await gateway(emu)
    const lamp = gw.subdevices.open({ ...sub(1), firmware: { version: '1.0.0', allowHttp: true } })
    await lamp.connect()
    await lamp.logout()
    const firmware = await emu.ota.addFirmware({
      productKey: SUB_PK,
      version: '2.0.0',
      data: image(4096, 3),
      signMethod: 'Md5',
    })
    const job = await emu.ota.push({ productKey: SUB_PK, deviceName: lamp.deviceName, firmware })
    expect(emu.ota.job(job.id)?.status).toBe('pending')
    const offered = new Promise<FirmwareOffer>((resolve) => lamp.once('fota', resolve))
    await lamp.connect()
    expect((await offered).version).toBe('2.0.0')
  })
})
