import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Emulator, OtaJob } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import { FlashSimPool, type Fleet, simulateFleet } from '../src/index.js'
import { LAMP_TSL, startEmulator, triples, until } from './helpers.js'

const image = new Uint8Array(512 * 1024).map((_, i) => (i * 31) % 251)

async function pushAll(emu: Emulator, fleet: Fleet): Promise<OtaJob[]> {
  const firmware = await emu.ota.addFirmware({
    productKey: fleet.devices()[0]!.productKey,
    version: '2.0.0',
    data: image,
    signMethod: 'SHA256',
  })
  return Promise.all(
    fleet
      .devices()
      .map((d) => emu.ota.push({ productKey: d.productKey, deviceName: d.deviceName, firmware })),
  )
}

const settled = (job: OtaJob | undefined) => job?.status === 'succeeded' || job?.status === 'failed'

describe('OTA to a fleet, pushed by the emulator', () => {
  it('healthy devices upgrade and inform the new version; a refusing share fails at -1, a failing store at -4, a stalled share hangs', async () => {
    const devices = triples(40, 'ota-')
    await using emu = await startEmulator(devices)
    await using fleet = await simulateFleet({
      url: emu.mqttUrl,
      devices,
      thingModel: LAMP_TSL,
      postIntervalMs: 0,
      ota: { allowHttp: true },
      faults: [
        { share: 0.25, kind: 'refuse' },
        { share: 0.1, kind: 'fail', atPercent: 30 },
        { share: 0.1, kind: 'stall', atPercent: 60 },
      ],
      seed: 11,
    })
    await fleet.whenConnected()
    const jobs = await pushAll(emu, fleet)
    const byDevice = new Map(fleet.devices().map((d) => [d.deviceName, d]))
    const jobOf = (job: OtaJob) => emu.ota.job(job.id)
    const stalled = jobs.filter((j) => byDevice.get(j.deviceName)?.fault === 'stall')
    await until(
      'every job but the stalled ones to end',
      () => jobs.every((j) => byDevice.get(j.deviceName)?.fault === 'stall' || settled(jobOf(j))),
      30_000,
    )
    await until('the stalled downloads to report their progress', () =>
      stalled.every((j) => (jobOf(j)?.step ?? 0) > 0),
    )
    const counts = { refuse: 0, fail: 0, stall: 0, none: 0 }
    for (const j of jobs) {
      const d = byDevice.get(j.deviceName)!
      const job = jobOf(j)!
      counts[d.fault ?? 'none']++
      if (d.fault === undefined) {
        expect(job.status).toBe('succeeded')
        expect(emu.device(d.productKey, d.deviceName)?.version).toBe('2.0.0')
      } else if (d.fault === 'refuse') {
        expect([job.status, job.failure?.step]).toEqual(['failed', -1])
      } else if (d.fault === 'fail') {
        expect([job.status, job.failure?.step]).toEqual(['failed', -4])
      } else {
        expect(job.status).toBe('upgrading')
        expect(job.step).toBeLessThan(60)
      }
    }
    expect(counts).toEqual({ refuse: 10, fail: 4, stall: 4, none: 22 })
    // The refusing devices fetched nothing: one GET for each of the other 30.
    const firmware = emu.ota.firmware(jobs[0]!.firmwareId)!
    expect(emu.ota.stats(firmware).requests).toBe(30)
    const m = fleet.metrics()
    expect(m.ota.succeeded).toBe(22)
    expect(m.ota.failed).toBe(14)
    expect(m.ota.steps.upgraded).toBe(22)
    expect(m.ota.steps['-1']).toBe(10)
    expect(m.ota.steps['-4']).toBe(4)
    expect((m.ota.steps['0'] ?? 0) + (m.ota.steps['25'] ?? 0) + (m.ota.steps['50'] ?? 0)).toBe(4)
    // The upgraded devices came back (a reboot through the connect queue) running 2.0.0.
    await fleet.whenConnected()
    expect(fleet.devices().filter((d) => d.version === '2.0.0')).toHaveLength(22)
  }, 60_000)

  it('downloads into a shared FlashSim pool: each image is written, booted and confirmed on a chip', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fleet-flash-'))
    try {
      await using pool = await FlashSimPool.create({ dir, size: 2, slotSizeBytes: 1024 * 1024 })
      const devices = triples(6, 'flash-')
      await using emu = await startEmulator(devices)
      await using fleet = await simulateFleet({
        url: emu.mqttUrl,
        devices,
        postIntervalMs: 0,
        ota: { store: pool, allowHttp: true },
      })
      await fleet.whenConnected()
      const jobs = await pushAll(emu, fleet)
      await until('every job to end', () => jobs.every((j) => settled(emu.ota.job(j.id))), 30_000)
      expect(jobs.map((j) => emu.ota.job(j.id)?.status)).toEqual(Array(6).fill('succeeded'))
      expect(pool.available).toBe(2)
      for (const chip of pool.chips) expect(await chip.activeVersion()).toBe('2.0.0')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  }, 60_000)
})
