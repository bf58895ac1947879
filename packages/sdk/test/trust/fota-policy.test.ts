import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import {
  allowWhen,
  enoughRoom,
  FlashSimPersistence,
  type FotaDeferral,
  type FotaResult,
  isLinkkitError,
  type LinkkitError,
  MemoryPersistence,
  maintenanceWindow,
  retryBudget,
} from '../../src/index.js'
import {
  device,
  FakeClock,
  image,
  nextOffer,
  open,
  progressOf,
  ref,
  tempDir,
  waitFor,
} from './trust-helpers.js'

const data = image(120_000, 60)
const HOUR = 3_600_000
/** 2026-12-02 01:00 UTC. */
const ONE_AM = Date.UTC(2026, 11, 2, 1, 0)

function deferrals(d: {
  on(event: 'fota:deferred', listener: (x: FotaDeferral) => void): unknown
}): FotaDeferral[] {
  const seen: FotaDeferral[] = []
  d.on('fota:deferred', (x) => seen.push(x))
  return seen
}

describe('firmware.policy (fake clock)', () => {
  it('a deferred offer completes when the maintenance window opens, asked for again with firmware/get; no -1 meanwhile', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const clock = new FakeClock(ONE_AM)
    const persistence = new MemoryPersistence()
    await using d = await open(emu, {
      version: '1.0.0',
      persistence,
      autoDownload: true,
      clock,
      policy: maintenanceWindow({ start: '02:00', end: '04:00' }),
    })
    const seen = deferrals(d)
    const progress: number[] = []
    d.on('fota:progress', (p) => progress.push(p.percent))
    const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data })
    const job = await emu.ota.push({ ...ref, firmware })
    const deferral = await waitFor(() => seen[0], 'fota:deferred')
    expect(deferral).toEqual({
      stage: 'download',
      version: '2.0.0',
      reason: 'outside the maintenance window 02:00–04:00 UTC+00:00',
      retryAt: ONE_AM + HOUR,
    })
    // The platform sees the job offered and nothing else: no progress, no failure, no bytes fetched.
    expect(emu.ota.job(job.id)?.status).toBe('pushed')
    expect(progressOf(emu)).toEqual([])
    expect(emu.ota.stats(firmware).requests).toBe(0)
    const pushes = emu.ota.job(job.id)?.pushCount ?? 0

    clock.advance(59 * 60_000)
    expect(emu.ota.stats(firmware).requests).toBe(0)
    clock.advance(60_000)
    await waitFor(() => (persistence.bytes() === undefined ? undefined : true), 'the download')
    expect(Buffer.compare(persistence.bytes() ?? Buffer.alloc(0), data)).toBe(0)
    const upgrading = await emu.ota.waitForJob(job.id, 'upgrading')
    expect(upgrading.pushCount).toBeGreaterThan(pushes)
    await waitFor(() => progressOf(emu).find(([step]) => step === 100), 'step 100')
    expect(progressOf(emu).every(([step]) => (step ?? -1) >= 0)).toBe(true)
    expect(seen).toHaveLength(1)
  })

  it('a deferred offer the platform withdrew meanwhile is dropped (ERR_OFFER_WITHDRAWN), reporting nothing', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const clock = new FakeClock(ONE_AM)
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: new MemoryPersistence(),
      clock,
      policy: maintenanceWindow({ start: '02:00', end: '04:00' }),
    })
    const seen = deferrals(d)
    const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data })
    const offered = nextOffer(d)
    const job = await emu.ota.push({ ...ref, firmware })
    const running = d.fota.download(await offered).catch((e: unknown) => e as LinkkitError)
    await waitFor(() => seen[0], 'fota:deferred')
    emu.ota.cancel(job.id)
    clock.advance(HOUR)
    const error = await running
    expect(isLinkkitError(error, 'ERR_OFFER_WITHDRAWN')).toBe(true)
    expect(progressOf(emu)).toEqual([])
    expect(emu.ota.stats(firmware).requests).toBe(0)
  })

  it('the retry budget backs off after a failed download and refuses the offer once spent (-1)', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const clock = new FakeClock(ONE_AM)
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: new MemoryPersistence(),
      clock,
      download: { retry: { limit: 0 } },
      policy: retryBudget({ attempts: 2, baseDelayMs: 60_000 }),
    })
    const seen = deferrals(d)
    const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data })
    emu.ota.faults.for(firmware).status(404, 2)
    const attempt = async () => {
      const offered = nextOffer(d)
      const job = await emu.ota.push({ ...ref, firmware })
      const running: Promise<LinkkitError> = d.fota.download(await offered).then(
        () => {
          throw new Error('the download was expected to fail')
        },
        (e: unknown) => e as LinkkitError,
      )
      return { job, running }
    }
    const first = await attempt()
    expect((await first.running).code).toBe('ERR_DOWNLOAD_HTTP_STATUS')
    await emu.ota.waitForJob(first.job.id, 'failed')

    // The operator pushes again: the same package waits out the backoff, then fails again.
    const second = await attempt()
    const backoff = await waitFor(() => seen[0], 'the backoff')
    expect(backoff).toMatchObject({
      reason: 'backing off after 1 failed downloads',
      retryAt: ONE_AM + 60_000,
    })
    expect(emu.ota.stats(firmware).requests).toBe(1)
    clock.advance(60_000)
    expect((await second.running).code).toBe('ERR_DOWNLOAD_HTTP_STATUS')
    expect(emu.ota.stats(firmware).requests).toBe(2)
    await emu.ota.waitForJob(second.job.id, 'failed')

    // Spent: refused for good, before any byte.
    const third = await attempt()
    const error = await third.running
    expect(isLinkkitError(error, 'ERR_POLICY_REFUSED')).toBe(true)
    expect(error.details).toMatchObject({ policy: 'retryBudget' })
    const failed = await emu.ota.waitForJob(third.job.id, 'failed')
    expect(failed.failure).toEqual({
      step: -1,
      desc: 'firmware 2.0.0: retry budget spent: 2 downloads of 2.0.0 failed',
    })
    expect(emu.ota.stats(firmware).requests).toBe(2)
  })

  it('enough room: an image larger than the storage is refused (-1) before any byte', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using tmp = await tempDir()
    const flash = await FlashSimPersistence.provision({
      path: join(tmp.path, 'flash.bin'),
      slotSizeBytes: 64 * 1024,
      image: { version: '1.0.0', data: image(10_000, 1) },
    })
    await using d = await open(emu, { version: '1.0.0', persistence: flash, policy: enoughRoom() })
    const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data })
    const offered = nextOffer(d)
    const job = await emu.ota.push({ ...ref, firmware })
    const error = await d.fota.download(await offered).catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_POLICY_REFUSED')).toBe(true)
    const failed = await emu.ota.waitForJob(job.id, 'failed')
    expect(failed.failure?.step).toBe(-1)
    expect(failed.failure?.desc).toMatch(/needs 120000 bytes, the storage holds \d+/)
    expect(emu.ota.stats(firmware).requests).toBe(0)
    await flash.close()
  })

  it('a user predicate defers until the device says yes, at download and at activation (real clock)', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using tmp = await tempDir()
    let battery = 12
    const flash = await FlashSimPersistence.provision({
      path: join(tmp.path, 'flash.bin'),
      image: { version: '1.0.0', data: image(10_000, 1) },
    })
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: flash,
      // Asked again after the shortest re-check (1 s).
      policy: allowWhen(() => (battery >= 30 ? true : `battery at ${battery}%`), { recheckMs: 0 }),
    })
    const seen = deferrals(d)
    const firmware = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data })
    const offered = nextOffer(d)
    await emu.ota.push({ ...ref, firmware })
    const running = d.fota.download(await offered)
    await waitFor(() => seen[0], 'the download deferral')
    expect(seen[0]).toMatchObject({ stage: 'download', version: '2.0.0', reason: 'battery at 12%' })
    expect(emu.ota.stats(firmware).requests).toBe(0)
    battery = 80
    const result: FotaResult = await running
    expect(result.bytes).toBe(data.length)

    battery = 5
    const activating = d.fota.activate()
    await waitFor(() => seen[1], 'the activation deferral')
    expect(seen[1]).toMatchObject({ stage: 'activate', version: '2.0.0', reason: 'battery at 5%' })
    expect((await flash.readStaged())?.image.version).toBe('2.0.0')
    battery = 90
    await expect(activating).resolves.toMatchObject({ version: '2.0.0' })
    expect(await flash.boot()).toMatchObject({ version: '2.0.0', rolledBack: false })
    await flash.close()
  })

  it('enough room: with a trial image in the spare slot the next offer waits until confirm frees it (real clock)', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using tmp = await tempDir()
    const path = join(tmp.path, 'flash.bin')
    const factory = await FlashSimPersistence.provision({
      path,
      image: { version: '1.0.0', data: image(10_000, 1) },
    })
    await factory.boot()
    let first: string
    {
      await using d = await open(emu, { version: '1.0.0', persistence: factory })
      const offered = nextOffer(d)
      const job = await emu.ota.push({
        ...ref,
        firmware: await emu.ota.addFirmware({ ...ref, version: '2.0.0', data }),
      })
      first = job.id
      await d.fota.download(await offered)
      await d.fota.activate()
      await factory.close()
    }
    // The operator moves on to 3.0.0 while 2.0.0 runs on trial.
    emu.ota.cancel(first)
    const flash = new FlashSimPersistence({ path })
    await flash.boot()
    await using d = await open(emu, {
      version: '1.0.0',
      persistence: flash,
      policy: enoughRoom({ recheckMs: 0 }),
    })
    const seen = deferrals(d)
    const next = await emu.ota.addFirmware({ ...ref, version: '3.0.0', data: image(50_000, 2) })
    const offered = nextOffer(d)
    await emu.ota.push({ ...ref, firmware: next })
    const running = d.fota.download(await offered)
    await waitFor(() => seen[0], 'the deferral')
    expect(seen[0]).toMatchObject({
      stage: 'download',
      version: '3.0.0',
      reason: 'needs 50000 bytes, 0 free',
    })
    expect(emu.ota.stats(next).requests).toBe(0)
    await d.fota.confirm()
    await expect(running).resolves.toMatchObject({ version: '3.0.0' })
    await flash.close()
  })

  it.each<[string, () => unknown]>([
    ['a malformed window', () => maintenanceWindow({ start: '25:00', end: '04:00' })],
    ['an empty window', () => maintenanceWindow({ start: '02:00', end: '02:00' })],
    ['a zero retry budget', () => retryBudget({ attempts: 0 })],
    ['a negative margin', () => enoughRoom({ marginBytes: -1 })],
  ])('%s is ERR_INVALID_OPTIONS', (_label, make) => {
    let error: unknown
    try {
      make()
    } catch (e) {
      error = e
    }
    expect(isLinkkitError(error, 'ERR_INVALID_OPTIONS')).toBe(true)
  })
})
