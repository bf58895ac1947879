import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import {
  type BootState,
  type Device,
  FilePersistence,
  type FirmwarePersistence,
  FlashSimPersistence,
  type FotaOptions,
  type FotaRollback,
  isLinkkitError,
  type LinkkitError,
  linkkit,
  ROLLED_BACK_DESC,
} from '../../src/index.js'
import {
  device,
  FakeClock,
  image,
  informsOf,
  nextOffer,
  open,
  progressOf,
  ref,
  tempDir,
  waitFor,
} from './trust-helpers.js'

const v1 = image(120_000, 30)
const v2 = image(150_000, 40)
const T0 = 1_800_000_000_000
const DEADLINE_MS = 60_000

type TrialAdapter = FilePersistence | FlashSimPersistence

/** Storage with trial boots, its clock the test's fake one: `factory` installs 1.0.0, `reboot` opens it again (a new process). */
interface Storage {
  name: string
  factory(dir: string, clock: FakeClock): Promise<TrialAdapter>
  reboot(dir: string, clock: FakeClock): TrialAdapter
  /** The bytes the next boot runs. */
  running(dir: string): Promise<Uint8Array | undefined>
}

const file: Storage = {
  name: 'FilePersistence',
  async factory(dir, clock) {
    await writeFile(join(dir, 'app.bin'), v1)
    return new FilePersistence({ path: join(dir, 'app.bin'), clock })
  },
  reboot: (dir, clock) => new FilePersistence({ path: join(dir, 'app.bin'), clock }),
  running: (dir) => readFile(join(dir, 'app.bin')),
}

const flash: Storage = {
  name: 'FlashSimPersistence',
  factory: (dir, clock) =>
    FlashSimPersistence.provision({
      path: join(dir, 'flash.bin'),
      clock,
      image: { version: '1.0.0', data: v1 },
    }),
  reboot: (dir, clock) => new FlashSimPersistence({ path: join(dir, 'flash.bin'), clock }),
  async running(dir) {
    const sim = new FlashSimPersistence({ path: join(dir, 'flash.bin') })
    try {
      return (await sim.readSlot((await sim.state()).active))?.bytes
    } finally {
      await sim.close()
    }
  },
}

/** The firmware options of every start: 1.0.0 configured, the fake clock, a 60 s deadline. */
function firmware(persistence: TrialAdapter, clock: FakeClock, extra: FotaOptions = {}): FotaOptions {
  return { version: '1.0.0', persistence, clock, confirmWithinMs: DEADLINE_MS, ...extra }
}

/** Factory image, first boot, 2.0.0 downloaded and activated, then the boot into it at T0 (the trial starts). */
async function upgradeAndReboot(
  emu: Emulator,
  storage: Storage,
  dir: string,
  clock: FakeClock,
  extra: FotaOptions = {},
) {
  const factory = await storage.factory(dir, clock)
  await factory.boot()
  const fw = await emu.ota.addFirmware({ ...ref, version: '2.0.0', data: v2, signMethod: 'SHA256' })
  {
    await using d = await open(emu, firmware(factory, clock, extra))
    const offered = nextOffer(d)
    const job = await emu.ota.push({ ...ref, firmware: fw })
    await d.fota.download(await offered)
    await d.fota.activate()
    await factory.close()
    const adapter = storage.reboot(dir, clock)
    await expect(adapter.boot()).resolves.toMatchObject({ version: '2.0.0', rolledBack: false })
    return { job, adapter }
  }
}

/** Opens a device, listening for `fota:rollback` before it connects (a rollback may happen at start). */
async function openWatching(
  emu: Emulator,
  options: FotaOptions,
): Promise<{ d: Device; rollback: Promise<FotaRollback> }> {
  const d = linkkit.open({
    ...device,
    brokerUrl: emu.mqttUrl,
    requestTimeoutMs: 3000,
    firmware: { allowHttp: true, ...options },
  })
  const rollback = new Promise<FotaRollback>((resolve) => d.once('fota:rollback', resolve))
  await d.connect()
  return { d, rollback }
}

const same = (a: Uint8Array | undefined, b: Uint8Array) => Buffer.compare(Buffer.from(a ?? []), b) === 0

describe.each([file, flash])(
  'confirm deadline (firmware.confirmWithinMs), end to end, on $name',
  (storage) => {
    it('no confirm within the deadline while the image runs: rolled back through the adapter, old version informed, job failed', async () => {
      await using emu = await Emulator.start({ devices: [device] })
      await using tmp = await tempDir()
      const clock = new FakeClock(T0)
      const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path, clock)
      const informed = informsOf(emu).length
      {
        const { d, rollback } = await openWatching(emu, firmware(adapter, clock))
        await using _d = d
        expect(d.fota.version()).toBe('2.0.0')
        expect((await adapter.bootState()).trial?.confirmBy).toBe(T0 + DEADLINE_MS)
        // The health checks never pass. One millisecond before the deadline nothing is due yet.
        clock.advance(DEADLINE_MS - 1)
        expect((await adapter.bootState()).trial).toBeDefined()
        clock.advance(1)
        expect(await rollback).toEqual({ version: '2.0.0', fallbackVersion: '1.0.0', reason: 'deadline' })
        const failed = await emu.ota.waitForJob(job.id, 'failed')
        expect(failed.failure).toEqual({ step: -1, desc: ROLLED_BACK_DESC })
        expect(failed.reason).toBe('the device reported step -1: rolled back')
        expect(new Set(informsOf(emu).slice(informed))).toEqual(new Set(['1.0.0']))
        expect(d.fota.version()).toBe('1.0.0')
        // A late confirm finds nothing on trial and keeps nothing.
        await d.fota.confirm()
        expect(await adapter.bootState()).toMatchObject({ trial: undefined, securityVersion: 0 })
        await adapter.close()
      }
      // The restart the application does on `fota:rollback`: the previous image runs, and the
      // rollback, already reported, is not reported again.
      const after = storage.reboot(tmp.path, clock)
      await expect(after.boot()).resolves.toMatchObject({ rolledBack: false })
      expect(same(await storage.running(tmp.path), v1)).toBe(true)
      const reports = progressOf(emu).length
      const before = informsOf(emu).length
      await using d = await open(emu, firmware(after, clock))
      await waitFor(() => (informsOf(emu).length > before ? true : undefined), 'the next inform')
      expect(progressOf(emu).length).toBe(reports)
      expect(d.fota.version()).toBe('1.0.0')
      await after.close()
    })

    it('a restart does not extend the deadline: it counts from the first boot of the trial image', async () => {
      await using emu = await Emulator.start({ devices: [device] })
      await using tmp = await tempDir()
      const clock = new FakeClock(T0)
      const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path, clock, {
        confirmWithinBoots: 5,
      })
      {
        await using _d = await open(emu, firmware(adapter, clock, { confirmWithinBoots: 5 }))
        clock.advance(40_000)
        await adapter.close()
      } // a crash 40 s in, without confirm
      const second = storage.reboot(tmp.path, clock)
      await expect(second.boot()).resolves.toMatchObject({ version: '2.0.0', rolledBack: false })
      const { d, rollback } = await openWatching(emu, firmware(second, clock, { confirmWithinBoots: 5 }))
      await using _d = d
      expect(d.fota.version()).toBe('2.0.0')
      // 20 s more reach the deadline of the first boot, not 60 s from this one.
      clock.advance(20_000)
      expect(await rollback).toMatchObject({ version: '2.0.0', reason: 'deadline' })
      const failed = await emu.ota.waitForJob(job.id, 'failed')
      expect(failed.failure).toEqual({ step: -1, desc: ROLLED_BACK_DESC })
      await second.close()
      expect(same(await storage.running(tmp.path), v1)).toBe(true)
    })

    it('a device that starts after the deadline rolls back at start, before it informs anything', async () => {
      await using emu = await Emulator.start({ devices: [device] })
      await using tmp = await tempDir()
      const clock = new FakeClock(T0)
      const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path, clock, {
        confirmWithinBoots: 3,
      })
      // Booted into the trial image, but the application came up only after the deadline.
      clock.advance(DEADLINE_MS + 5_000)
      const informed = informsOf(emu).length
      const { d, rollback } = await openWatching(emu, firmware(adapter, clock, { confirmWithinBoots: 3 }))
      await using _d = d
      expect(await rollback).toMatchObject({ version: '2.0.0', reason: 'deadline' })
      const failed = await emu.ota.waitForJob(job.id, 'failed')
      expect(failed.failure).toEqual({ step: -1, desc: ROLLED_BACK_DESC })
      expect(informsOf(emu).slice(informed)).not.toContain('2.0.0')
      expect(d.fota.version()).toBe('1.0.0')
      await adapter.close()
      expect(same(await storage.running(tmp.path), v1)).toBe(true)
    })

    it('confirm() before the deadline keeps the image: the watch is cancelled and the job succeeds', async () => {
      await using emu = await Emulator.start({ devices: [device] })
      await using tmp = await tempDir()
      const clock = new FakeClock(T0)
      const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path, clock)
      await using d = await open(emu, firmware(adapter, clock))
      expect(clock.pending).toBe(1)
      clock.advance(DEADLINE_MS / 2)
      await d.fota.confirm()
      expect(clock.pending).toBe(0)
      const done = await emu.ota.waitForJob(job.id, 'succeeded')
      expect(done.status).toBe('succeeded')
      clock.advance(DEADLINE_MS)
      expect(await adapter.bootState()).toMatchObject({
        version: '2.0.0',
        trial: undefined,
        rolledBack: undefined,
      })
      await adapter.close()
      expect(same(await storage.running(tmp.path), v2)).toBe(true)
    })
  },
)

describe('confirm deadline: options and adapters without rollBack()', () => {
  it('firmware.confirmWithinMs is checked at open(): an integer from 1 to 2^32 - 1', () => {
    for (const confirmWithinMs of [0, -1, 1.5, 2 ** 32, Number.NaN]) {
      expect(
        () => linkkit.open({ ...device, firmware: { confirmWithinMs } }),
        String(confirmWithinMs),
      ).toThrow(
        expect.objectContaining({
          code: 'ERR_INVALID_OPTIONS',
          details: { name: 'firmware.confirmWithinMs' },
        }),
      )
    }
    expect(() => linkkit.open({ ...device, firmware: { confirmWithinMs: 2 ** 32 - 1 } })).not.toThrow()
  })

  it('an adapter that reports a deadline but cannot roll back: an error event, the trial stays', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    const clock = new FakeClock(T0)
    const state: BootState = {
      version: '2.0.0',
      trial: {
        version: '2.0.0',
        securityVersion: 0,
        bootsLeft: 0,
        fallbackVersion: '1.0.0',
        confirmBy: T0 + 1000,
      },
      rolledBack: undefined,
      securityVersion: 0,
    }
    const persistence: FirmwarePersistence = {
      start() {},
      write() {},
      stop() {},
      bootState: () => state,
      confirm() {},
    }
    const { d } = await openWatching(emu, { version: '1.0.0', persistence, clock, confirmWithinMs: 1000 })
    await using _d = d
    const failed = new Promise<LinkkitError>((resolve) => d.once('error', resolve))
    clock.advance(1000)
    const error = await failed
    expect(isLinkkitError(error, 'ERR_PERSISTENCE')).toBe(true)
    expect(error.message).toMatch(/no rollBack\(\)/)
    expect(d.fota.version()).toBe('2.0.0')
    expect(informsOf(emu)).not.toContain('2.0.0')
  })
})
