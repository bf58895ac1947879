import { describe, expect, it } from 'vitest'
import { simulateFleet } from '../src/index.js'
import { LAMP_TSL, startEmulator, triples, until } from './helpers.js'

describe('a fleet of 200 devices with churn', () => {
  it('keeps every post answered, reconnects every device, and never starts more connects a second than allowed', async () => {
    const devices = triples(200)
    await using emu = await startEmulator(devices)
    const onlineAt: number[] = []
    emu.on('device:online', () => onlineAt.push(performance.now()))
    const connectsPerSecond = 80
    await using fleet = await simulateFleet({
      url: emu.mqttUrl,
      devices,
      thingModel: LAMP_TSL,
      postIntervalMs: 1000,
      connectConcurrency: 20,
      connectsPerSecond,
      churn: { meanUptimeMs: 4000, meanDowntimeMs: 300 },
      backoff: { initialDelayMs: 100, maxDelayMs: 1000 },
      seed: 7,
    })
    await until('the fleet to connect', () => fleet.metrics().connects >= 200, 30_000)
    await until('50 churned devices', () => fleet.metrics().churned >= 50, 30_000)
    fleet.setChurn(false)
    await fleet.whenConnected()
    const before = fleet.metrics()
    await until('another round of posts', () => fleet.metrics().posts.answered >= before.posts.answered + 400)

    const m = fleet.metrics()
    expect(m.connected).toBe(200)
    expect(m.connects).toBeGreaterThanOrEqual(200 + 50)
    expect(m.posts.failed).toBe(0)
    expect(m.posts.sent - m.posts.answered - m.posts.lost).toBeLessThanOrEqual(200)
    expect(m.roundTripMs.samples).toBeGreaterThan(0)
    expect(m.roundTripMs.p99).toBeGreaterThanOrEqual(m.roundTripMs.p50)
    // Every device the emulator sees online was counted by the fleet, and it reports the same state.
    expect(devices.every((d) => emu.device(d.productKey, d.deviceName)?.online)).toBe(true)
    expect(onlineAt.length).toBe(m.connects)
    // No connect storm: in any second the broker saw about as many logins as the fleet may start.
    let worst = 0
    for (let i = 0, j = 0; i < onlineAt.length; i++) {
      while ((onlineAt[i] as number) - (onlineAt[j] as number) >= 1000) j++
      worst = Math.max(worst, i - j + 1)
    }
    expect(worst).toBeLessThanOrEqual(connectsPerSecond * 1.25)
  }, 90_000)
})
