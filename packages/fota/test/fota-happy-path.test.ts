import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import type { FotaProgress } from '../src/perform.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import type { DigestMethod, FirmwareOffer } from '../src/types.js'
import { firmwareBytes, MiB, offerData } from './helpers/firmware.js'
import { startRig, steps, waitFor } from './helpers/rig.js'

describe('FotaClient: a pushed upgrade downloads, verifies and reports progress', () => {
  it.each<DigestMethod>(['Md5', 'SHA256'])('happy path with %s', async (signMethod) => {
    await using rig = await startRig()
    const data = firmwareBytes(3 * MiB, signMethod === 'Md5' ? 11 : 12)
    const file = rig.files.addFile({ data })
    // Paced so the download lasts long enough for rate-limited percentages to show up.
    rig.files.faultsFor(file.id).throttle(8 * MiB)
    const persistence = new MemoryPersistence()
    await using fota = new FotaClient(rig.connection, { version: '1.0.0', persistence, allowHttp: true })
    await fota.start()
    const offers: FirmwareOffer[] = []
    fota.on('fota', (offer) => offers.push(offer))
    const local: FotaProgress[] = []
    fota.on('fota:progress', (p) => local.push(p))

    await rig.push(offerData(file, { version: '2.0.0', signMethod }))
    const offer = await waitFor(() => offers[0], 2000, 'the fota event')
    expect(offer).toMatchObject({
      version: '2.0.0',
      size: data.length,
      url: file.url,
      signMethod,
      digest: signMethod === 'Md5' ? file.md5 : file.sha256,
      md5: file.md5,
    })
    expect(offer.module).toBeUndefined()

    const result = await fota.download(offer)
    expect(result).toMatchObject({
      version: '2.0.0',
      bytes: data.length,
      resumedBytes: 0,
      requests: 1,
      files: [{ size: data.length, digest: offer.digest }],
    })
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)
    expect(persistence.image).toMatchObject({ version: '2.0.0', size: data.length, signMethod })

    await waitFor(() => rig.progress.some((p) => p.step === '100'), 2000, 'step 100')
    const seen = steps(rig.progress).map(Number)
    expect(seen[0]).toBe(0)
    expect(seen.at(-1)).toBe(100)
    // Percentages in between grow by at least 5 points each (3.x: "more than 5"); 100 comes always.
    const percentages = seen.slice(0, -1)
    expect(percentages.length).toBeGreaterThanOrEqual(3)
    for (const [i, step] of percentages.entries()) {
      if (i > 0) expect(step - (percentages[i - 1] ?? 0)).toBeGreaterThanOrEqual(5)
    }
    expect(seen.at(-2)).toBeLessThan(100)
    expect(rig.progress.every((p) => p.module === undefined)).toBe(true)

    expect(local.length).toBeGreaterThan(2)
    expect(local.at(-1)).toMatchObject({
      version: '2.0.0',
      bytes: data.length,
      total: data.length,
      percent: 100,
    })
    for (const [i, p] of local.entries()) {
      expect(p.total).toBe(data.length)
      expect(p.percent).toBe(Math.floor((p.bytes * 100) / data.length))
      if (i > 0) expect(p.bytes).toBeGreaterThan(local[i - 1]?.bytes ?? 0)
    }
  })

  it('informs the configured versions on start and again after a reconnect', async () => {
    await using rig = await startRig()
    await using fota = new FotaClient(rig.connection, {
      version: '1.0.0',
      modules: { MCU: { version: '0.9.1' } },
    })
    await fota.start()
    await waitFor(() => rig.informs.length >= 2, 2000, 'two informs')
    expect(rig.informs).toEqual([{ version: '1.0.0' }, { version: '0.9.1', module: 'MCU' }])

    const reconnected = new Promise((resolve) => rig.connection.once('connected', resolve))
    expect(rig.emu.kick(rig.identity.productKey, rig.identity.deviceName)).toBe(true)
    await reconnected
    await waitFor(() => rig.informs.length >= 4, 2000, 'informs after the reconnect')
    expect(rig.informs.slice(2)).toEqual([{ version: '1.0.0' }, { version: '0.9.1', module: 'MCU' }])

    await fota.reportVersion('2.0.0')
    await waitFor(() => rig.informs.length >= 5, 2000, 'the reported version')
    expect(rig.informs[4]).toEqual({ version: '2.0.0' })
    expect(fota.version()).toBe('2.0.0')
  })
})
