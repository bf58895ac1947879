import { describe, expect, it } from 'vitest'
import { simulateFleet } from '../src/index.js'
import { LAMP_TSL, PK, startEmulator, triples, until } from './helpers.js'

describe('what a fleet device answers the emulator', () => {
  it('answers async and sync (RRPC) services, property gets and sets with replies the emulator accepts, each for the device addressed only', async () => {
    const devices = triples(3, 'answer-')
    await using emu = await startEmulator(devices)
    await using fleet = await simulateFleet({
      url: emu.mqttUrl,
      devices,
      thingModel: LAMP_TSL,
      postIntervalMs: 300,
      seed: 3,
    })
    await fleet.whenConnected()

    const wake = await emu.invokeService(PK, 'answer-0', 'wakeup', { delaySeconds: 3 })
    expect(wake.code).toBe(200)
    expect(wake.data).toEqual({ out: expect.any(Number) })
    const blink = await emu.invokeService(PK, 'answer-1', 'Blink', { times: 2 })
    expect(blink.code).toBe(200)
    expect(Object.keys(blink.data as object).sort()).toEqual(['done', 'durationMs'])
    const get = await emu.getProperties(PK, 'answer-2', ['Brightness', 'LightSwitch'])
    expect(get.code).toBe(200)
    expect(Object.keys(get.data as object).sort()).toEqual(['Brightness', 'LightSwitch'])

    const set = await emu.setProperties(PK, 'answer-0', { Label: 'set-by-the-cloud' })
    expect(set.code).toBe(200)
    // The device posts the value it was given from then on; the other devices keep generating theirs.
    const label = (name: string) => emu.device(PK, name)?.properties?.Label?.value
    await until('answer-0 to post the label it was set', () => label('answer-0') === 'set-by-the-cloud')
    await until(
      'answer-1 and answer-2 to post',
      () => label('answer-1') !== undefined && label('answer-2') !== undefined,
    )
    expect([label('answer-1'), label('answer-2')]).not.toContain('set-by-the-cloud')

    const m = fleet.metrics()
    expect(m.services).toBe(2)
    expect(m.propertySets).toBe(1)
    expect(m.posts.failed).toBe(0)
    expect(m.errors).toEqual({})
  }, 30_000)
})
