import { copyFile, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  type FlashSimBoot,
  FlashSimPersistence,
  type PowerCutAtOperation,
  type PowerCutDetails,
} from '../src/persistence/flash-sim.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'

/*
 * Exhaustive and deterministic: power is cut at every erase/program boundary of a whole upgrade
 * (download, commit, activate, trial boot, confirm), and halfway through every program, first of
 * an A→B upgrade and then of a B→A one. After each cut the recovery boot is cut again at each of
 * its own boundaries, then the device boots uncut and finishes the upgrade. Every boot must find
 * a complete image, never older than the last confirmed one. Small images and 1 KiB sectors keep
 * the whole walk to a few seconds: today 56 first cuts (30 + 26), 36 second cuts and 92 checked
 * recovery boots, each followed by the rest of the upgrade. Nothing is random: a failure names
 * the operation that was cut, and re-running reproduces it.
 */
const geometry = { sectorSizeBytes: 1024, slotSizeBytes: 5 * 1024 }
const images = {
  '1.0.0': makeFirmware({ size: 3000, seed: 1, version: '1.0.0' }),
  '2.0.0': makeFirmware({ size: 3500, seed: 2, version: '2.0.0' }),
  '3.0.0': makeFirmware({ size: 2900, seed: 3, version: '3.0.0', signMethod: 'Md5' }),
} as const
type Version = keyof typeof images
const rank = (version: string) => Object.keys(images).indexOf(version)
/** Chunk sizes of every download, zero-length writes and sector-straddling ones included. */
const chunkCycle = [700, 0, 1, 1323, 1024, 0, 2048]

const steps = ['download', 'commit', 'activate', 'trial boot', 'confirm'] as const
type Step = (typeof steps)[number]
/** Until `activate()` has returned, a reboot must run the old image. */
const beforeActivation: ReadonlySet<Step> = new Set(['download', 'commit', 'activate'])

let dir: string

const open = (path: string, cut?: PowerCutAtOperation) =>
  new FlashSimPersistence({ path, ...geometry, ...(cut === undefined ? {} : { powerCutAtOperation: cut }) })

async function writeFrom(flash: FlashSimPersistence, data: Uint8Array, from: number): Promise<void> {
  let offset = 0
  for (let i = 0; offset < data.length; i++) {
    const end = Math.min(data.length, offset + (chunkCycle[i % chunkCycle.length] ?? 1))
    if (end > from) await flash.write(data.subarray(Math.max(from, offset), end), Math.max(from, offset))
    offset = end
  }
}

/** The whole upgrade as an application runs it; resolves with the step a power cut stopped, if any. */
async function upgrade(
  flash: FlashSimPersistence,
  to: Version,
): Promise<{ step: Step; cut: PowerCutDetails } | undefined> {
  const { image, data } = images[to]
  let step: Step = 'download'
  try {
    await flash.start(image, 0)
    await writeFrom(flash, data, 0)
    step = 'commit'
    await flash.stop({ ok: true })
    step = 'activate'
    await flash.activate()
    step = 'trial boot'
    await flash.boot()
    step = 'confirm'
    await flash.confirm()
    return undefined
  } catch (error) {
    return { step, cut: cutDetails(error) }
  }
}

function cutDetails(error: unknown): PowerCutDetails {
  if (!(error instanceof LinkkitError) || error.code !== 'ERR_FLASH_POWER_CUT') throw error
  return error.details as unknown as PowerCutDetails
}

/** The cuts at one operation: before it starts, and halfway through a program. */
function variants(index: number, cut: PowerCutDetails): PowerCutAtOperation[] {
  return cut.kind === 'program' && cut.length >= 2
    ? [{ index }, { index, tornBytes: Math.floor(cut.length / 2) }]
    : [{ index }]
}

interface Walk {
  old: Version
  next: Version
  /** The flash before the upgrade: `old` confirmed. */
  template: string
}

interface Tally {
  firstCuts: number
  secondCuts: number
  boots: number
  byStep: Record<Step, number>
  resumed: number
  rolledBack: number
  trialKept: number
}

/** A boot must run a complete image of the old or the new version, never older than the old one. */
async function expectSound(
  flash: FlashSimPersistence,
  boot: FlashSimBoot,
  walk: Walk,
  step: Step,
  where: string,
): Promise<void> {
  expect([walk.old, walk.next], where).toContain(boot.version)
  expect(rank(boot.version), `${where}: older than the last confirmed ${walk.old}`).toBeGreaterThanOrEqual(
    rank(walk.old),
  )
  if (beforeActivation.has(step)) expect(boot.version, where).toBe(walk.old)
  const running = await flash.readSlot(boot.slot)
  expect(running?.image.version, where).toBe(boot.version)
  const expected = images[boot.version as Version].data
  expect(Buffer.from(running?.bytes ?? []).equals(expected), `${where}: bytes of ${boot.version}`).toBe(true)
}

/** From a sound boot, the device finishes the upgrade (resuming what the flash kept) and runs `next`. */
async function finish(
  flash: FlashSimPersistence,
  path: string,
  boot: FlashSimBoot,
  walk: Walk,
  tally: Tally,
  where: string,
) {
  const { image, data } = images[walk.next]
  if (boot.version === walk.next) {
    tally.trialKept += 1
    expect((await flash.state()).trial, where).toBe(true)
  } else {
    const held = await flash.resumeOffset(image)
    if (held > 0) {
      tally.resumed += 1
      const back: Uint8Array[] = []
      for await (const part of flash.readBack(image, held)) back.push(part)
      expect(Buffer.concat(back).equals(data.subarray(0, held)), where).toBe(true)
    }
    await flash.start(image, held)
    await writeFrom(flash, data, held)
    await flash.stop({ ok: true })
    await flash.activate()
    await flash.close()
    flash = open(path)
    expect(await flash.boot(), where).toMatchObject({ version: walk.next, rolledBack: false })
  }
  await flash.confirm()
  await flash.close()
  const final = open(path)
  const last = await final.boot()
  expect(last, where).toMatchObject({ version: walk.next, rolledBack: false })
  expect(Buffer.from((await final.readSlot(last.slot))?.bytes ?? []).equals(data), where).toBe(true)
  await final.close()
}

/** Runs `attempt` on a fresh copy of `from` with power cut at `cut`; resolves with what the cut stopped. */
async function cutRun<T>(
  from: string,
  path: string,
  cut: PowerCutAtOperation,
  attempt: (flash: FlashSimPersistence) => Promise<T>,
): Promise<T> {
  await copyFile(from, path)
  const flash = open(path, cut)
  try {
    return await attempt(flash)
  } finally {
    await flash.close()
  }
}

const describeCut = (cut: PowerCutAtOperation) =>
  `operation ${cut.index}${cut.tornBytes === undefined ? '' : ` torn after ${cut.tornBytes} bytes`}`

/**
 * After the first cut: the recovery boot is cut at each of its own boundaries (it writes the boot
 * record when it starts or ends a trial), then the device boots uncut, and finishes the upgrade.
 */
async function recover(crashed: string, walk: Walk, step: Step, tally: Tally, where: string): Promise<void> {
  const path = join(dir, 'recovering.bin')
  for (let index = 0; ; index++) {
    const probe = await cutRun(crashed, path, { index }, (flash) =>
      flash.boot().then(
        () => undefined,
        (error: unknown) => cutDetails(error),
      ),
    )
    // Uncut: the recovery boot needs fewer operations, and every one of them was cut already.
    const runs: Array<PowerCutAtOperation | undefined> =
      probe === undefined ? [undefined] : variants(index, probe)
    for (const second of runs) {
      const here = `${where}, recovery boot ${second === undefined ? 'uncut' : `cut at ${describeCut(second)}`}`
      await copyFile(crashed, path)
      if (second !== undefined) {
        const doomed = open(path, second)
        await expect(doomed.boot(), here).rejects.toMatchObject({ code: 'ERR_FLASH_POWER_CUT' })
        await doomed.close()
        tally.secondCuts += 1
      }
      const flash = open(path)
      const boot = await flash.boot()
      tally.boots += 1
      if (boot.rolledBack) tally.rolledBack += 1
      await expectSound(flash, boot, walk, step, here)
      await finish(flash, path, boot, walk, tally, here)
    }
    if (probe === undefined) return
  }
}

/** Cuts the upgrade at every operation (and halfway through every program) and checks each recovery. */
async function walkUpgrade(walk: Walk): Promise<Tally> {
  const tally: Tally = {
    firstCuts: 0,
    secondCuts: 0,
    boots: 0,
    byStep: { download: 0, commit: 0, activate: 0, 'trial boot': 0, confirm: 0 },
    resumed: 0,
    rolledBack: 0,
    trialKept: 0,
  }
  const path = join(dir, 'upgrading.bin')
  const crashed = join(dir, 'crashed.bin')
  for (let index = 0; ; index++) {
    const probe = await cutRun(walk.template, path, { index }, (flash) => upgrade(flash, walk.next))
    if (probe === undefined) return tally // the upgrade ran uncut: every one of its operations was cut once
    for (const cut of variants(index, probe.cut)) {
      const where = `${walk.old}→${walk.next}: cut at ${describeCut(cut)} (${probe.cut.kind} during ${probe.step})`
      const stopped = await cutRun(walk.template, path, cut, async (flash) => {
        const result = await upgrade(flash, walk.next)
        await expect(flash.state(), where).rejects.toMatchObject({ code: 'ERR_FLASH_POWER_CUT' })
        return result
      })
      expect(stopped, where).toMatchObject({ step: probe.step })
      tally.firstCuts += 1
      tally.byStep[probe.step] += 1
      await copyFile(path, crashed)
      await recover(crashed, walk, probe.step, tally, where)
    }
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-power-cut-'))
  const v1 = join(dir, 'v1.bin')
  const factory = images['1.0.0']
  await (
    await FlashSimPersistence.provision({
      path: v1,
      ...geometry,
      image: { version: '1.0.0', data: factory.data },
    })
  ).close()
  // The B→A walk starts from a device that completed the A→B upgrade: 2.0.0 confirmed in slot B.
  const v2 = join(dir, 'v2.bin')
  await copyFile(v1, v2)
  const flash = open(v2)
  expect(await upgrade(flash, '2.0.0')).toBeUndefined()
  expect((await flash.state()).active).toBe('B')
  await flash.close()
})
afterAll(() => rm(dir, { recursive: true, force: true }))

describe('FlashSimPersistence: a power cut at every write boundary, and another during the recovery boot', () => {
  it('A→B (1.0.0 → 2.0.0): every boot runs a complete image, never older than the last confirmed one', async () => {
    const tally = await walkUpgrade({ old: '1.0.0', next: '2.0.0', template: join(dir, 'v1.bin') })
    expectCoverage(tally)
  })

  it('B→A (2.0.0 → 3.0.0): the factory image left in slot A never boots again', async () => {
    const tally = await walkUpgrade({ old: '2.0.0', next: '3.0.0', template: join(dir, 'v2.bin') })
    expectCoverage(tally)
  })
})

function expectCoverage(tally: Tally): void {
  // Every step of the upgrade was cut, data sectors were resumed, and both trial outcomes were met.
  for (const step of steps) expect(tally.byStep[step], `cuts during ${step}`).toBeGreaterThan(0)
  expect(tally.firstCuts, 'cuts of one upgrade (30 for A→B, 26 for B→A today)').toBeGreaterThanOrEqual(20)
  expect(tally.secondCuts, 'recovery boots that write the boot record were cut too').toBeGreaterThan(0)
  expect(tally.resumed, 'cuts in the data phase leave whole sectors to resume').toBeGreaterThan(0)
  expect(tally.rolledBack, 'an unconfirmed trial rolls back').toBeGreaterThan(0)
  expect(
    tally.trialKept,
    'a trial boot cut before it was recorded boots the new image again',
  ).toBeGreaterThan(0)
}
