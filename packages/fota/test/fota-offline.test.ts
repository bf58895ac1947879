import { Topics } from '@linkkit/core'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import { OtaSession } from '../src/ota-session.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import type { FirmwareOffer } from '../src/types.js'
import { firmwareBytes, offerData } from './helpers/firmware.js'
import { device, type Rig, startRig, waitFor } from './helpers/rig.js'

/** Stops the platform (MQTT only; the file server stays up) and waits until the device notices. */
async function cloudDown(rig: Rig): Promise<number> {
  const port = Number(new URL(rig.emu.mqttUrl).port)
  await rig.emu.close()
  await waitFor(() => rig.connection.state === 'reconnecting', 2000, 'the device to notice')
  return port
}

/** Brings a platform back on the same port and records the progress steps it receives. */
async function cloudBack(port: number) {
  const emu = await Emulator.start({ devices: [device], mqttPort: port })
  const steps: string[] = []
  emu.onUplink(Topics.otaProgress(device), ({ payload }) => {
    steps.push((JSON.parse(payload.toString()) as { params: { step: string } }).params.step)
  })
  return { emu, steps }
}

describe('downloads do not wait for the cloud', () => {
  it('FotaClient.download completes while MQTT is down; the queued progress follows on reconnect', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(300_000, 61)
    const file = rig.files.addFile({ data })
    const persistence = new MemoryPersistence()
    await using fota = new FotaClient(rig.connection, { version: '1.0.0', persistence, allowHttp: true })
    await fota.start()
    const offers: FirmwareOffer[] = []
    fota.on('fota', (offer) => offers.push(offer))
    await rig.push(offerData(file))
    const offer = await waitFor(() => offers[0], 2000, 'the fota event')
    const port = await cloudDown(rig)

    const result = await fota.download(offer)
    expect(result.bytes).toBe(data.length)
    expect(Buffer.compare(persistence.bytes() ?? new Uint8Array(), data)).toBe(0)

    const back = await cloudBack(port)
    try {
      await waitFor(() => back.steps.includes('100'), 3000, 'the queued progress')
      expect(back.steps[0]).toBe('0')
      expect(back.steps.at(-1)).toBe('100')
    } finally {
      await back.emu.close()
    }
  })

  it('OtaSession.fetchYield fetches while MQTT is down', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(50_000, 62)
    const file = rig.files.addFile({ data })
    await using ota = new OtaSession(rig.connection, { allowHttp: true })
    await ota.ready
    await rig.push(offerData(file))
    await waitFor(() => ota.isFetching(), 2000, 'the push')
    await cloudDown(rig)

    const buffer = new Uint8Array(4096)
    let fetched = 0
    const deadline = Date.now() + 3000
    while (!ota.isFetchFinish() && Date.now() < deadline) fetched += await ota.fetchYield(buffer, 500)
    expect(fetched).toBe(data.length)
    expect(ota.checkFirmware()).toBe(true)
  })
})
