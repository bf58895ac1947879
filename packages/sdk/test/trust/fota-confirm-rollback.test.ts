import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Emulator } from '@linkkit/emulator'
import { describe, expect, it } from 'vitest'
import {
  FilePersistence,
  type FirmwarePersistence,
  FlashSimPersistence,
  isLinkkitError,
  ROLLED_BACK_DESC,
} from '../../src/index.js'
import {
  device,
  image,
  informsOf,
  keyPair,
  nextOffer,
  open,
  progressOf,
  ref,
  tempDir,
  waitFor,
  waitForAsync,
} from './trust-helpers.js'

const v1 = image(200_000, 10)
const v2 = image(250_000, 20)
const keys = keyPair('ed25519')
const trust = { keys: { k1: keys.publicKey } }

/** An adapter with trial boots over storage in `dir`: `factory` writes version 1.0.0, `reboot` opens it again (a new process). */
interface Storage {
  name: string
  factory(
    dir: string,
  ): Promise<FirmwarePersistence & { boot(): Promise<{ version: string | undefined; rolledBack: boolean }> }>
  reboot(
    dir: string,
  ): FirmwarePersistence & { boot(): Promise<{ version: string | undefined; rolledBack: boolean }> }
  /** The bytes that run now. */
  running(dir: string): Promise<Uint8Array | undefined>
}

const file: Storage = {
  name: 'FilePersistence',
  async factory(dir) {
    await writeFile(join(dir, 'app.bin'), v1)
    return new FilePersistence({ path: join(dir, 'app.bin') })
  },
  reboot: (dir) => new FilePersistence({ path: join(dir, 'app.bin') }),
  running: (dir) => readFile(join(dir, 'app.bin')),
}

const flash: Storage = {
  name: 'FlashSimPersistence',
  factory: (dir) =>
    FlashSimPersistence.provision({ path: join(dir, 'flash.bin'), image: { version: '1.0.0', data: v1 } }),
  reboot: (dir) => new FlashSimPersistence({ path: join(dir, 'flash.bin') }),
  async running(dir) {
    const sim = new FlashSimPersistence({ path: join(dir, 'flash.bin') })
    try {
      // The confirmed slot: what every boot without a trial runs.
      return (await sim.readSlot((await sim.state()).active))?.bytes
    } finally {
      await sim.close()
    }
  },
}

/** Factory image, first boot, a signed 2.0.0 (security version 3) downloaded and activated, then the reboot into it. */
async function upgradeAndReboot(emu: Emulator, storage: Storage, dir: string) {
  const factory = await storage.factory(dir)
  await factory.boot()
  const firmware = await emu.ota.addFirmware({
    ...ref,
    version: '2.0.0',
    data: v2,
    signMethod: 'SHA256',
    signingKey: keys.privateKey,
    keyId: 'k1',
    securityVersion: 3,
  })
  {
    await using d = await open(emu, { version: '1.0.0', persistence: factory, trust, confirmWithinBoots: 1 })
    const offered = nextOffer(d)
    const job = await emu.ota.push({ ...ref, firmware })
    await d.fota.download(await offered)
    await expect(d.fota.activate()).resolves.toMatchObject({ version: '2.0.0', securityVersion: 3 })
    await closeAdapter(factory)
    const adapter = storage.reboot(dir)
    await expect(adapter.boot()).resolves.toMatchObject({ version: '2.0.0', rolledBack: false })
    return { job, adapter }
  }
}

async function closeAdapter(adapter: FirmwarePersistence): Promise<void> {
  await (adapter as Partial<AsyncDisposable>)[Symbol.asyncDispose]?.()
}

describe.each([file, flash])('confirm or roll back, end to end, on %s', (storage) => {
  it('confirm() keeps the new image, informs it (the job succeeds) and raises the security counter', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using tmp = await tempDir()
    const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path)
    {
      await using d = await open(emu, { version: '1.0.0', persistence: adapter, trust })
      // On trial: 2.0.0 is not informed before confirm, so the job waits.
      expect(d.fota.version()).toBe('2.0.0')
      expect(informsOf(emu)).not.toContain('2.0.0')
      expect((await adapter.bootState?.())?.trial).toMatchObject({ version: '2.0.0', securityVersion: 3 })
      await d.fota.confirm()
      const done = await emu.ota.waitForJob(job.id, 'succeeded')
      expect(done.status).toBe('succeeded')
      expect(informsOf(emu).at(-1)).toBe('2.0.0')
      expect(await adapter.bootState?.()).toMatchObject({
        version: '2.0.0',
        trial: undefined,
        securityVersion: 3,
      })
      await closeAdapter(adapter)
    }
    // Another reboot: the confirmed image stays.
    const again = storage.reboot(tmp.path)
    await expect(again.boot()).resolves.toMatchObject({ version: '2.0.0', rolledBack: false })
    expect(Buffer.compare(Buffer.from((await storage.running(tmp.path)) ?? []), v2)).toBe(0)

    // The counter now refuses an older security version, before any byte.
    await using d = await open(emu, { version: '1.0.0', persistence: again, trust })
    const old = await emu.ota.addFirmware({
      ...ref,
      version: '2.0.1',
      data: v1,
      signingKey: keys.privateKey,
      keyId: 'k1',
      securityVersion: 2,
    })
    const offered = nextOffer(d)
    const refused = await emu.ota.push({ ...ref, firmware: old })
    const error = await d.fota.download(await offered).catch((e: unknown) => e)
    expect(isLinkkitError(error, 'ERR_ROLLBACK_REFUSED')).toBe(true)
    const failed = await emu.ota.waitForJob(refused.id, 'failed')
    expect(failed.failure).toEqual({
      step: -1,
      desc: 'firmware 2.0.1: security version 2 is below the minimum 3',
    })
    expect(emu.ota.stats(old).requests).toBe(0)
    await closeAdapter(again)
  })

  it('no confirm within confirmWithinBoots: the adapter rolls back, the old version is informed, the job fails "rolled back"', async () => {
    await using emu = await Emulator.start({ devices: [device] })
    await using tmp = await tempDir()
    const { job, adapter } = await upgradeAndReboot(emu, storage, tmp.path)
    {
      // The new image runs, but its health checks never pass: no confirm().
      await using d = await open(emu, { version: '1.0.0', persistence: adapter, trust })
      expect(d.fota.version()).toBe('2.0.0')
      await closeAdapter(adapter)
    }
    const after = storage.reboot(tmp.path)
    await expect(after.boot()).resolves.toMatchObject({ rolledBack: true })
    expect(Buffer.compare(Buffer.from((await storage.running(tmp.path)) ?? []), v1)).toBe(0)
    const informed = informsOf(emu).length
    {
      await using d = await open(emu, { version: '1.0.0', persistence: after, trust })
      const failed = await emu.ota.waitForJob(job.id, 'failed')
      expect(failed.failure).toEqual({ step: -1, desc: ROLLED_BACK_DESC })
      expect(failed.reason).toBe('the device reported step -1: rolled back')
      // The old version was informed (acknowledged) before the failure was reported.
      const ota = emu.device(device.productKey, device.deviceName)?.ota
      const informs = (ota?.informs ?? []).slice(informed)
      expect(new Set(informs.map((i) => i.version))).toEqual(new Set(['1.0.0']))
      const report = ota?.progress.at(-1)
      expect(report).toMatchObject({ step: -1, desc: 'rolled back' })
      expect(informs[0]?.at).toBeLessThanOrEqual(report?.at ?? 0)
      expect(d.fota.version()).toBe('1.0.0')
      // The counter was not raised by the image that rolled back; the rollback is forgotten once reported.
      await waitForAsync(async () =>
        (await after.bootState?.())?.rolledBack === undefined ? true : undefined,
      )
      expect((await after.bootState?.())?.securityVersion).toBe(0)
    }
    // Reported once: the next start does not report it again.
    const reports = progressOf(emu).length
    const before = informsOf(emu).length
    await using d = await open(emu, { version: '1.0.0', persistence: after, trust })
    await waitFor(() => (informsOf(emu).length > before ? true : undefined), 'the next inform')
    expect(progressOf(emu).length).toBe(reports)
    expect(d.fota.version()).toBe('1.0.0')
    await closeAdapter(after)
  })
})
