import { Emulator } from '@linkkit/emulator'
import { SpyPersistence } from '@linkkit/testing/persistence'
import { describe, expect, it } from 'vitest'
import { isLinkkitError, type LinkkitError, MemoryPersistence } from '../../src/index.js'
import { device, image, nextOffer, open, ref } from './trust-helpers.js'

const data = image(150_000, 50)

/** Pushes 3.0.0 with `extData` to a device whose minimum is `minimum`; returns what the device and the platform saw. */
async function offer(
  extData: Record<string, unknown> | undefined,
  minimum: number | undefined,
  version = '3.0.0',
) {
  await using emu = await Emulator.start({ devices: [device] })
  const spy = new SpyPersistence(new MemoryPersistence())
  await using d = await open(emu, {
    version: '2.0.0',
    persistence: spy,
    ...(minimum === undefined ? {} : { securityVersion: minimum }),
  })
  const firmware = await emu.ota.addFirmware({
    ...ref,
    version,
    data,
    ...(extData === undefined ? {} : { extData }),
  })
  const offered = nextOffer(d)
  const job = await emu.ota.push({ ...ref, firmware })
  const outcome = await d.fota.download(await offered).then(
    (result) => ({ ok: true as const, result }),
    (error: LinkkitError) => ({ ok: false as const, error }),
  )
  const failed = outcome.ok ? undefined : await emu.ota.waitForJob(job.id, 'failed')
  return {
    outcome,
    failure: failed?.failure,
    requests: emu.ota.stats(firmware).requests,
    writes: spy.bytesWritten,
  }
}

describe('the security counter (anti-rollback)', () => {
  it('an offer below firmware.securityVersion is refused with -1 before any byte is fetched', async () => {
    const r = await offer({ securityVersion: 4 }, 5)
    expect(r.outcome.ok).toBe(false)
    const error = r.outcome.ok ? undefined : r.outcome.error
    expect(isLinkkitError(error, 'ERR_ROLLBACK_REFUSED')).toBe(true)
    expect(error?.details).toMatchObject({ securityVersion: 4, minimum: 5, version: '3.0.0' })
    expect(r.failure).toEqual({ step: -1, desc: 'firmware 3.0.0: security version 4 is below the minimum 5' })
    expect(r.requests).toBe(0)
    expect(r.writes).toBe(0)
  })

  it('an offer without a security version counts as 0', async () => {
    const r = await offer(undefined, 1)
    expect(r.outcome.ok ? undefined : r.outcome.error.code).toBe('ERR_ROLLBACK_REFUSED')
    expect(r.requests).toBe(0)
  })

  it('equal or higher is accepted, and the plain version may go down', async () => {
    const r = await offer({ securityVersion: 5 }, 5, '1.0.0')
    expect(r.outcome.ok).toBe(true)
    expect(r.requests).toBe(1)
  })

  it('a string of digits is read as the number (as a console field may hold it)', async () => {
    expect((await offer({ securityVersion: '7' }, 5)).outcome.ok).toBe(true)
    const low = await offer({ securityVersion: '4' }, 5)
    expect(low.outcome.ok ? undefined : low.outcome.error.code).toBe('ERR_ROLLBACK_REFUSED')
  })

  it.each<[string, unknown]>([
    ['negative', -1],
    ['a negative string', '-1'],
    ['a fraction', 1.5],
    ['above 2^32-1', 2 ** 32],
    ['huge', 2 ** 53 + 2],
    ['a huge string', '99999999999999999999'],
    ['exponent notation', '1e3'],
    ['padded', ' 6'],
    ['a boolean', true],
    ['an object', { valueOf: 9 }],
    ['null', null],
    ['NaN as text', 'NaN'],
  ])(
    'a security version that is %s is refused as a malformed offer (-1), before any byte',
    async (_label, value) => {
      const r = await offer({ securityVersion: value }, 0)
      const error = r.outcome.ok ? undefined : r.outcome.error
      expect(isLinkkitError(error, 'ERR_OFFER_INVALID')).toBe(true)
      expect(error?.details).toMatchObject({ field: 'extData.securityVersion' })
      expect(r.failure?.step).toBe(-1)
      expect(r.requests).toBe(0)
      expect(r.writes).toBe(0)
    },
  )

  it.each<[string, unknown]>([
    ['negative', -1],
    ['a string', '3'],
    ['a fraction', 0.5],
    ['too large', 2 ** 32],
  ])('firmware.securityVersion that is %s is ERR_INVALID_OPTIONS at open()', async (_label, value) => {
    await using emu = await Emulator.start({ devices: [device] })
    const error = await open(emu, {
      persistence: new MemoryPersistence(),
      securityVersion: value as number,
    }).catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_INVALID_OPTIONS')).toBe(true)
  })
})
