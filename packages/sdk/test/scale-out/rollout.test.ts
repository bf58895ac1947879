import { Emulator, type OtaRollout } from '@linkkit/emulator'
import { RedisProcess, redisMissing } from '@linkkit/testing/redis'
import { describe, expect, it } from 'vitest'
import { type Device, linkkit, MemoryPersistence } from '../../src/index.js'

const PK = 'a1Rollout001'
const COUNT = 50
/**
 * Devices whose store cannot hold the image: their downloads fail (progress -1), a real failure.
 * A list target keeps its order (all devices are online), so the third failure comes early.
 */
const BAD = new Set([4, 9, 14, 30, 45])
const devices = Array.from({ length: COUNT }, (_, i) => ({
  productKey: PK,
  deviceName: `lamp-${String(i).padStart(3, '0')}`,
  deviceSecret: `rollout-secret-${i}`.padEnd(32, 'x'),
}))
const image = new Uint8Array(32 * 1024).map((_, i) => (i * 7 + 3) & 0xff)

/** Connects every device, spread over the given nodes; each takes an offer at once and informs the version once its image is in. */
async function fleet(nodes: Emulator[]): Promise<Device[]> {
  return Promise.all(
    devices.map(async (triple, i) => {
      const persistence = new MemoryPersistence(BAD.has(i) ? { maxSizeBytes: 1024 } : {})
      const node = nodes[i % nodes.length] as Emulator
      const d = linkkit.open({
        ...triple,
        brokerUrl: node.mqttUrl,
        requestTimeoutMs: 5000,
        firmware: { version: '1.0.0', persistence, allowHttp: true },
      })
      d.on('error', () => {})
      d.on('fota', (offer) => {
        d.fota.download(offer).then(
          () => d.fota.reportVersion(offer.version),
          () => {},
        )
      })
      return d.connect()
    }),
  )
}

async function closeAll(list: Device[]): Promise<void> {
  await Promise.all(list.map((d) => d.close()))
}

/** Largest number of jobs under way at once, as the rollout reported it. */
function peakActive(emu: Emulator, id: string): { peak: () => number } {
  let peak = 0
  emu.ota.on('ota:rollout', (r: OtaRollout) => {
    if (r.id === id) peak = Math.max(peak, r.counts.active)
  })
  return { peak: () => peak }
}

describe('staged rollout with 50 real devices', () => {
  it('pauses at its failure threshold, resumes, and completes: every healthy device succeeded', async () => {
    await using emu = await Emulator.start({ devices, noDelay: true })
    const list = await fleet([emu])
    try {
      const firmware = await emu.ota.addFirmware({ productKey: PK, version: '1.1.0', data: image })
      const started = await emu.ota.rollout({
        productKey: PK,
        firmware,
        deviceNames: devices.map((d) => d.deviceName),
        maxConcurrent: 4,
        pauseOnFailure: '5%',
      })
      expect(started).toMatchObject({
        status: 'running',
        failureThreshold: 3,
        counts: { total: 50, active: 4 },
      })
      const peak = peakActive(emu, started.id)
      const paused = await emu.ota.rollouts.waitFor(started.id, 'paused', 30_000)
      expect(paused.pausedReason).toBe('3 upgrades failed (threshold 3)')
      expect(paused.counts.failed).toBeGreaterThanOrEqual(3)
      // Paused: no upgrade starts; those under way end, and the rest stays queued.
      await expect.poll(() => emu.ota.rollouts.get(started.id)?.counts.active, { timeout: 20_000 }).toBe(0)
      const settled = emu.ota.rollouts.get(started.id) as OtaRollout
      expect(settled.status).toBe('paused')
      expect(settled.counts.queued).toBeGreaterThan(0)
      expect(emu.ota.jobs({ productKey: PK })).toHaveLength(50 - settled.counts.queued)

      await emu.ota.rollouts.resume(started.id)
      const done = await emu.ota.rollouts.waitFor(started.id, 'completed', 60_000)
      expect(done.counts).toEqual({ total: 50, queued: 0, active: 0, succeeded: 45, failed: 5, canceled: 0 })
      expect(peak.peak()).toBe(4)
      for (const [i, d] of devices.entries()) {
        const job = emu.ota.job(done.jobs[d.deviceName] ?? '')
        expect([d.deviceName, job?.status]).toEqual([d.deviceName, BAD.has(i) ? 'failed' : 'succeeded'])
      }
    } finally {
      await closeAll(list)
    }
  }, 120_000)

  it('targets a percent, a list or a tag; cancel stops it and its jobs; bad requests are refused', async () => {
    await using emu = await Emulator.start({ devices, noDelay: true })
    const firmware = await emu.ota.addFirmware({ productKey: PK, version: '1.1.0', data: image })
    // No device online: jobs stay pending, holding their slots.
    const tenth = await emu.ota.rollout({ productKey: PK, firmware, percent: 10, maxConcurrent: 2 })
    expect(tenth.counts).toMatchObject({ total: 5, active: 2, queued: 3 })
    const canceled = await emu.ota.rollouts.cancel(tenth.id)
    expect(canceled.status).toBe('canceled')
    await expect
      .poll(() => emu.ota.rollouts.get(tenth.id)?.counts)
      .toMatchObject({ active: 0, canceled: 2, queued: 3 })
    for (const id of Object.values(tenth.jobs)) expect(emu.ota.job(id)?.status).toBe('canceled')
    // A larger share includes the smaller one.
    const fifth = await emu.ota.rollout({ productKey: PK, firmware, percent: 20, maxConcurrent: 1 })
    const fifthAll = [...fifth.queue, ...Object.keys(fifth.jobs)]
    expect(fifthAll).toHaveLength(10)
    for (const name of [...tenth.queue, ...Object.keys(tenth.jobs)]) expect(fifthAll).toContain(name)
    await expect(emu.ota.rollouts.resume(tenth.id)).rejects.toMatchObject({ code: 'ERR_OTA_STATE' })
    await expect(emu.ota.rollouts.resume(fifth.id)).rejects.toMatchObject({ code: 'ERR_OTA_STATE' })
    expect((await emu.ota.rollouts.pause(fifth.id)).status).toBe('paused')

    const listed = await emu.ota.rollout({ productKey: PK, firmware, deviceNames: ['lamp-007', 'lamp-008'] })
    expect(listed.counts.total).toBe(2)

    const bad: Array<[Record<string, unknown>, string]> = [
      [{ percent: 0 }, 'percent'],
      [{ percent: 101 }, 'percent'],
      [{ percent: 10, tag: 'x' }, 'target'],
      [{}, 'target'],
      [{ deviceNames: ['nobody'] }, 'deviceNames'],
      [{ tag: 'site=none' }, 'target'],
      [{ tag: '=x' }, 'tag'],
      [{ percent: 10, maxConcurrent: 0 }, 'maxConcurrent'],
      [{ percent: 10, pauseOnFailure: '0%' }, 'pauseOnFailure'],
      [{ percent: 10, pauseOnFailure: 'many' }, 'pauseOnFailure'],
      [{ percent: 10, pauseOnFailure: -1 }, 'pauseOnFailure'],
    ]
    for (const [options, field] of bad) {
      const error = await emu.ota.rollout({ productKey: PK, firmware, ...options }).catch((e: unknown) => e)
      expect([options, error]).toEqual([options, expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' })])
      if (field !== 'maxConcurrent')
        expect((error as { details?: { field?: string } }).details?.field).toBe(field)
    }
    await expect(emu.ota.rollout({ productKey: 'a1Other', firmware, percent: 10 })).rejects.toMatchObject({
      code: 'ERR_INVALID_ARGUMENT',
    })
  })

  it('a tag selects the devices that reported it', async () => {
    await using emu = await Emulator.start({ devices: devices.slice(0, 4), noDelay: true })
    const list = await Promise.all(
      devices.slice(0, 4).map((t) => linkkit.open({ ...t, brokerUrl: emu.mqttUrl }).connect()),
    )
    try {
      await list[1]?.thing.updateTags([{ attrKey: 'site', attrValue: 'hall-7' }])
      await list[2]?.thing.updateTags([{ attrKey: 'site', attrValue: 'hall-8' }])
      const firmware = await emu.ota.addFirmware({ productKey: PK, version: '1.1.0', data: image })
      const hall7 = await emu.ota.rollout({ productKey: PK, firmware, tag: 'site=hall-7', maxConcurrent: 5 })
      expect(Object.keys(hall7.jobs)).toEqual(['lamp-001'])
      const anySite = await emu.ota.rollout({ productKey: PK, firmware, tag: 'site', maxConcurrent: 5 })
      expect(Object.keys(anySite.jobs).sort()).toEqual(['lamp-001', 'lamp-002'])
    } finally {
      await closeAll(list)
    }
  })
})

describe.skipIf(redisMissing !== undefined)(
  `staged rollout on two nodes on Redis${redisMissing === undefined ? '' : ` (skipped: ${redisMissing})`}`,
  () => {
    it('started on node B for devices on both nodes: pauses at the threshold, resumed from node A, completes', async () => {
      await using redis = await RedisProcess.start()
      const shared = { redisUrl: redis.url, redisPrefix: 'rollout', noDelay: true }
      await using a = await Emulator.start({ ...shared, devices })
      await using b = await Emulator.start(shared)
      const list = await fleet([a, b])
      try {
        await expect.poll(() => [...b.registry.all()].filter((s) => s.online).length).toBe(COUNT)
        const firmware = await b.ota.addFirmware({ productKey: PK, version: '1.1.0', data: image })
        const started = await b.ota.rollout({
          productKey: PK,
          firmware,
          percent: 100,
          maxConcurrent: 8,
          pauseOnFailure: 3,
        })
        await a.ota.rollouts.waitFor(started.id, 'paused', 30_000)
        await expect.poll(() => b.ota.rollouts.get(started.id)?.counts.active, { timeout: 20_000 }).toBe(0)
        // Node A shows B's rollout, and forwards the resume to B, which drives it.
        const resumed = await a.ota.rollouts.resume(started.id)
        expect(resumed.status).toBe('running')
        const done = await a.ota.rollouts.waitFor(started.id, 'completed', 60_000)
        expect(done.counts).toEqual({
          total: 50,
          queued: 0,
          active: 0,
          succeeded: 45,
          failed: 5,
          canceled: 0,
        })
        expect(b.ota.rollouts.get(started.id)?.counts).toEqual(done.counts)
      } finally {
        await closeAll(list)
      }
    }, 120_000)
  },
)
