import type { OtaRollout } from '@linkkit/emulator'
import { rolloutWhere } from '@linkkit/testing/emulator'
import { describe, expect, it } from 'vitest'
import { simulateFleet } from '../src/index.js'
import { LAMP_TSL, PK, startEmulator, triples } from './helpers.js'

const image = new Uint8Array(256 * 1024).map((_, i) => (i * 17 + 3) % 253)

describe('a staged rollout to a fleet with injected download failures (the rollout bench, small)', () => {
  it('pauses at its failure threshold, never exceeds maxConcurrent, resumes, and every healthy device ends succeeded', async () => {
    const devices = triples(60, 'roll-')
    await using emu = await startEmulator(devices)
    await using fleet = await simulateFleet({
      url: emu.mqttUrl,
      devices,
      thingModel: LAMP_TSL,
      postIntervalMs: 0,
      ota: { allowHttp: true },
      // 5%: three devices whose store fails half way through the image (step -4).
      faults: [{ share: 0.05, kind: 'fail', atPercent: 50 }],
      seed: 3,
    })
    await fleet.whenConnected()
    const faulty = new Set(
      fleet
        .devices()
        .filter((d) => d.fault === 'fail')
        .map((d) => d.deviceName),
    )
    expect(faulty.size).toBe(3)
    const firmware = await emu.ota.addFirmware({ productKey: PK, version: '2.0.0', data: image })
    let peak = 0
    emu.ota.on('ota:rollout', (r: OtaRollout) => {
      peak = Math.max(peak, r.counts.active)
    })
    const started = await emu.ota.rollout({
      productKey: PK,
      firmware,
      percent: 100,
      maxConcurrent: 4,
      pauseOnFailure: 2,
    })
    const paused = await emu.ota.rollouts.waitFor(started.id, 'paused', 30_000)
    expect(paused.pausedReason).toBe('2 upgrades failed (threshold 2)')
    expect(paused.counts.failed).toBe(2)
    expect(paused.counts.queued).toBeGreaterThan(0)
    // Paused: the upgrades under way end, and no new one starts.
    const drained = await rolloutWhere(emu, started.id, (r) => r.counts.active === 0)
    expect(drained.status).toBe('paused')
    expect(drained.counts.queued).toBe(paused.counts.queued)
    expect(emu.ota.jobs({ productKey: PK })).toHaveLength(60 - drained.counts.queued)

    await emu.ota.rollouts.resume(started.id)
    const done = await emu.ota.rollouts.waitFor(started.id, 'completed', 60_000)
    expect(done.counts).toEqual({ total: 60, queued: 0, active: 0, succeeded: 57, failed: 3, canceled: 0 })
    expect(peak).toBe(4)
    for (const d of fleet.devices()) {
      const job = emu.ota.job(done.jobs[d.deviceName] ?? '')
      const expected = faulty.has(d.deviceName) ? ['failed', -4] : ['succeeded', undefined]
      expect([d.deviceName, job?.status, job?.failure?.step]).toEqual([d.deviceName, ...expected])
    }
    // The healthy devices rebooted into 2.0.0 and came back.
    await fleet.whenConnected()
    expect(fleet.devices().filter((d) => d.version === '2.0.0')).toHaveLength(57)
    expect(fleet.metrics().ota).toMatchObject({ succeeded: 57, failed: 3 })
  }, 90_000)
})
