import { describe, expect, it } from 'vitest'
import { Emulator, type EmulatorOptions } from '../src/index.js'
import { DEVICE } from './helpers.js'

/** `Emulator.start()` checks every option in one place (src/start-options.ts). */
describe('Emulator.start options', () => {
  it.each([
    ['mqttPort', -1],
    ['mqttPort', 65_536],
    ['mqttPort', 1.5],
    ['httpPort', '8080'],
    ['host', ''],
    ['host', 127001],
    ['minKeepaliveSeconds', -30],
    ['registerCloseDelayMs', 'soon'],
    ['requestTimeoutMs', 2 ** 31],
    ['noDelay', 1],
    ['clock', { now: () => 0 }],
    ['logger', 'loud'],
    ['logger', { info() {} }],
    ['devices', { productKey: 'a1' }],
    ['products', 'a1LampDemo01'],
    ['topology', 5],
    ['controlToken', 'short'],
    ['firmwareBaseUrl', 'ftp://127.0.0.1'],
    ['allowedFirmwareDir', 'relative/dir'],
    ['redisLeaseMs', 100],
    ['redisLeaseMs', '15s'],
  ])('refuses %s = %j with ERR_INVALID_OPTIONS naming it', async (name, value) => {
    await expect(Emulator.start({ [name]: value } as EmulatorOptions)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      details: { name },
    })
  })

  it('refuses options that are not an object', async () => {
    await expect(Emulator.start(null as unknown as EmulatorOptions)).rejects.toMatchObject({
      code: 'ERR_INVALID_OPTIONS',
      details: { name: 'options' },
    })
  })

  it('takes undefined as the default and leaves the caller’s object as it was', async () => {
    const options: EmulatorOptions = Object.freeze({
      devices: [DEVICE],
      mqttPort: undefined,
      host: undefined,
      logger: 'silent',
      requestTimeoutMs: 0,
    })
    await using emu = await Emulator.start(options)
    expect(emu.mqttUrl).toMatch(/^mqtt:\/\/127\.0\.0\.1:\d+$/)
    expect(options).toEqual({
      devices: [DEVICE],
      mqttPort: undefined,
      host: undefined,
      logger: 'silent',
      requestTimeoutMs: 0,
    })
  })
})
