import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BootClock } from '../src/persistence/boot-types.js'
import { FilePersistence } from '../src/persistence/file.js'
import { FlashSimPersistence } from '../src/persistence/flash-sim.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'
import type { FirmwarePersistence } from '../src/types.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-confirm-deadline-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const v1 = makeFirmware({ size: 20_000, seed: 1, version: '1.0.0' })
const v2 = makeFirmware({ size: 30_000, seed: 2, version: '2.0.0' })
const T0 = 1_800_000_000_000

/** A clock that moves only when told: the adapters read it at `boot()`. */
class ManualClock implements BootClock {
  at = T0
  now(): number {
    return this.at
  }
}

type TrialAdapter = FirmwarePersistence &
  Required<Pick<FirmwarePersistence, 'activate' | 'bootState' | 'rollBack' | 'confirm'>> & {
    boot(): Promise<{ version: string | undefined; rolledBack: boolean }>
    close(): Promise<void>
  }

/** Storage with trial boots: `factory` installs 1.0.0 and returns the adapter; `reboot` opens it again (a new process). */
interface Storage {
  name: string
  /** The version the adapter knows the factory image by (a factory file it never committed: none). */
  factoryVersion: string | undefined
  factory(clock: BootClock): Promise<TrialAdapter>
  reboot(clock: BootClock): TrialAdapter
  /** The bytes the next boot runs. */
  running(): Promise<Uint8Array | undefined>
}

const file: Storage = {
  name: 'FilePersistence',
  factoryVersion: undefined,
  async factory(clock) {
    await writeFile(join(dir, 'app.bin'), v1.data)
    return new FilePersistence({ path: join(dir, 'app.bin'), clock })
  },
  reboot: (clock) => new FilePersistence({ path: join(dir, 'app.bin'), clock }),
  running: () => readFile(join(dir, 'app.bin')),
}

const flash: Storage = {
  name: 'FlashSimPersistence',
  factoryVersion: '1.0.0',
  factory: (clock) =>
    FlashSimPersistence.provision({
      path: join(dir, 'flash.bin'),
      clock,
      image: { version: '1.0.0', data: v1.data },
    }),
  reboot: (clock) => new FlashSimPersistence({ path: join(dir, 'flash.bin'), clock }),
  async running() {
    const sim = new FlashSimPersistence({ path: join(dir, 'flash.bin') })
    try {
      return (await sim.readSlot((await sim.state()).active))?.bytes
    } finally {
      await sim.close()
    }
  },
}

/** Factory boot, 2.0.0 stored and activated with `budget`, then the first boot into it at T0. */
async function trial(storage: Storage, clock: ManualClock, budget: object): Promise<TrialAdapter> {
  const adapter = await storage.factory(clock)
  await adapter.boot()
  await adapter.start(v2.image, 0)
  await adapter.write(v2.data, 0)
  await adapter.stop({ ok: true })
  await adapter.activate(budget)
  await adapter.close()
  const rebooted = storage.reboot(clock)
  expect(await rebooted.boot()).toMatchObject({ version: '2.0.0', rolledBack: false })
  return rebooted
}

const booted = (boot: { version: string | undefined; rolledBack: boolean }) => [boot.version, boot.rolledBack]
const same = (a: Uint8Array | undefined, b: Uint8Array) => Buffer.compare(Buffer.from(a ?? []), b) === 0

describe.each([file, flash])('confirm deadline on $name', (storage) => {
  it('stamps the first trial boot and keeps the deadline across restarts: a restart does not extend it', async () => {
    const clock = new ManualClock()
    const first = await trial(storage, clock, { confirmWithinBoots: 5, confirmWithinMs: 60_000 })
    expect((await first.bootState()).trial).toMatchObject({ version: '2.0.0', confirmBy: T0 + 60_000 })
    await first.close()

    // A crash 40 s in: the next boot still has boots left, and the same deadline.
    clock.at = T0 + 40_000
    const second = storage.reboot(clock)
    expect(await second.boot()).toMatchObject({ version: '2.0.0', rolledBack: false })
    expect((await second.bootState()).trial).toMatchObject({ confirmBy: T0 + 60_000, bootsLeft: 3 })
    await second.close()

    // Past the deadline, boots left or not, the next boot rolls back.
    clock.at = T0 + 60_000
    const third = storage.reboot(clock)
    expect(booted(await third.boot())).toEqual([storage.factoryVersion, true])
    expect(await third.bootState()).toMatchObject({ trial: undefined, rolledBack: { version: '2.0.0' } })
    expect(same(await storage.running(), v1.data)).toBe(true)
    await third.close()
  })

  it('rollBack() gives the running trial image up at once; the next boot runs the confirmed one', async () => {
    const clock = new ManualClock()
    const adapter = await trial(storage, clock, { confirmWithinMs: 1000 })
    await adapter.rollBack()
    expect(await adapter.bootState()).toMatchObject({
      version: storage.factoryVersion,
      trial: undefined,
      rolledBack: { version: '2.0.0' },
      securityVersion: 0,
    })
    await adapter.rollBack() // nothing on trial: nothing happens
    await adapter.close()
    const next = storage.reboot(clock)
    expect(booted(await next.boot())).toEqual([storage.factoryVersion, false])
    expect(same(await storage.running(), v1.data)).toBe(true)
    await next.close()
  })

  it('confirm() before the deadline keeps the image past it; without a deadline only boots count', async () => {
    const clock = new ManualClock()
    const adapter = await trial(storage, clock, { confirmWithinBoots: 3 })
    expect((await adapter.bootState()).trial?.confirmBy).toBeUndefined()
    await adapter.confirm()
    await adapter.close()
    clock.at = T0 + 10 * 86_400_000
    const later = storage.reboot(clock)
    expect(await later.boot()).toMatchObject({ version: '2.0.0', rolledBack: false })
    await later.close()
  })

  it('refuses a deadline that is not an integer from 1 to 2^32 - 1', async () => {
    const adapter = await storage.factory(new ManualClock())
    await adapter.boot()
    for (const confirmWithinMs of [0, -5, 1.5, 2 ** 32, Number.NaN]) {
      await expect(adapter.activate({ confirmWithinMs }), String(confirmWithinMs)).rejects.toMatchObject({
        code: 'ERR_INVALID_ARGUMENT',
        details: { name: 'confirmWithinMs' },
      })
    }
    await adapter.close()
  })
})
