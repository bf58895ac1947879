import { mkdtemp, open as openFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LinkkitError } from '@linkkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { NorFlash } from '../src/persistence/flash/nor-flash.js'
import { FlashSimPersistence } from '../src/persistence/flash-sim.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'

const sector = 1024
const slot = 24 * sector
const v1 = makeFirmware({ size: 10_000, seed: 1, version: '1.0.0' })
const v2 = makeFirmware({ size: 15_000, seed: 2, version: '2.0.0', signMethod: 'Md5' })
const v3 = makeFirmware({ size: 9_000, seed: 3, version: '3.0.0' })

let dir: string
let options: { path: string; sectorSizeBytes: number; slotSizeBytes: number }
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-flash-'))
  options = { path: join(dir, 'flash.bin'), sectorSizeBytes: sector, slotSizeBytes: slot }
})
afterEach(() => rm(dir, { recursive: true, force: true }))

const provision = () =>
  FlashSimPersistence.provision({ ...options, image: { version: '1.0.0', data: v1.data } })

async function download(flash: FlashSimPersistence, firmware: typeof v2) {
  await flash.start(firmware.image, 0)
  for (let offset = 0; offset < firmware.data.length; offset += 1500) {
    await flash.write(firmware.data.subarray(offset, offset + 1500), offset)
  }
  await flash.stop({ ok: true })
}

/** A reboot: the old instance is powered off and a new one opens the same flash file. */
async function reboot(flash: FlashSimPersistence) {
  await flash.close()
  const next = new FlashSimPersistence(options)
  return { flash: next, boot: await next.boot() }
}

describe('FlashSimPersistence boot flow', () => {
  it('stages, activates, boots on trial and confirms an upgrade across reboots', async () => {
    let flash = await provision()
    expect(await flash.boot()).toEqual({ slot: 'A', version: '1.0.0', rolledBack: false })
    await download(flash, v2)
    expect((await flash.state()).slots.B).toMatchObject({ status: 'ready', heldBytes: v2.data.length })

    let next = await reboot(flash)
    expect(next.boot).toEqual({ slot: 'A', version: '1.0.0', rolledBack: false })
    await next.flash.activate()
    next = await reboot(next.flash)
    expect(next.boot).toEqual({ slot: 'B', version: '2.0.0', rolledBack: false })
    expect(await next.flash.activeVersion()).toBe('2.0.0')
    expect(await next.flash.state()).toMatchObject({ active: 'A', pending: 'B', trial: true, booted: 'B' })
    await next.flash.confirm()

    next = await reboot(next.flash)
    expect(next.boot).toEqual({ slot: 'B', version: '2.0.0', rolledBack: false })
    flash = next.flash
    expect(await flash.state()).toMatchObject({ active: 'B', pending: undefined, trial: false })
    expect(Buffer.from((await flash.readSlot('B'))?.bytes ?? []).equals(v2.data)).toBe(true)
    await flash.close()
  })

  it('rolls back when the trial boot is never confirmed', async () => {
    const flash = await provision()
    await download(flash, v2)
    await flash.activate()
    let next = await reboot(flash)
    expect(next.boot).toMatchObject({ slot: 'B', version: '2.0.0' })
    next = await reboot(next.flash)
    expect(next.boot).toEqual({ slot: 'A', version: '1.0.0', rolledBack: true })
    next = await reboot(next.flash)
    expect(next.boot).toEqual({ slot: 'A', version: '1.0.0', rolledBack: false })
    expect(await next.flash.activeVersion()).toBe('1.0.0')
    await next.flash.close()
  })

  it('verifies the digest at boot: a corrupted new image rolls back instead of booting', async () => {
    const flash = await provision()
    await download(flash, v2)
    await flash.activate()
    await flash.close()
    const file = await openFile(options.path, 'r+')
    const slotBData = 32 + 2 * sector + slot + sector
    await file.write(Buffer.from([0x00]), 0, 1, slotBData + 5000)
    await file.close()
    const next = new FlashSimPersistence(options)
    expect(await next.boot()).toEqual({ slot: 'A', version: '1.0.0', rolledBack: true })
    expect((await next.state()).slots.B.status).toBe('corrupt')
    await next.close()
  })

  it('guards the order of operations with coded errors', async () => {
    const flash = await provision()
    await expect(flash.activate()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await download(flash, v2)
    await flash.activate()
    await expect(flash.confirm()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await flash.boot()
    await expect(flash.start(v3.image, 0)).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await expect(flash.start(makeFirmware({ size: slot, seed: 4 }).image, 0)).rejects.toMatchObject({
      code: 'ERR_PERSISTENCE',
    })
    await flash.close()
    await expect(flash.state()).rejects.toMatchObject({ code: 'ERR_CLOSED' })
    // The instance owns its flash file until close(), also after a refused boot.
    await using blank = new FlashSimPersistence({
      path: join(dir, 'blank.bin'),
      sectorSizeBytes: sector,
      slotSizeBytes: slot,
    })
    await expect(blank.boot()).rejects.toMatchObject({ code: 'ERR_FLASH_NO_VALID_IMAGE' })
  })

  it('refuses bad geometry and a flash file of another geometry', async () => {
    const bad = (o: object) => () => new FlashSimPersistence({ ...options, ...o })
    expect(bad({ sectorSizeBytes: 512 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }))
    expect(bad({ slotSizeBytes: slot + 100 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    expect(bad({ powerCutAt: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }))
    await (await provision()).close()
    const other = new FlashSimPersistence({ ...options, slotSizeBytes: 2 * slot })
    await expect(other.boot()).rejects.toMatchObject({ code: 'ERR_INVALID_OPTIONS' })
  })
})

describe('FlashSimPersistence power cuts by operation', () => {
  it('cuts the chosen erase or program, names it in details, and refuses bad indexes', async () => {
    const bad = (cut: object) => () =>
      new FlashSimPersistence({ ...options, powerCutAtOperation: cut as never })
    for (const cut of [{ index: -1 }, { index: 1.5 }, { index: 0, tornBytes: -1 }]) {
      expect(bad(cut), JSON.stringify(cut)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }))
    }
    await (await provision()).close()
    // A download starts with the erase of the slot header (operation 0), then its staging record.
    const erase = new FlashSimPersistence({ ...options, powerCutAtOperation: { index: 0 } })
    await expect(erase.start(v2.image, 0)).rejects.toMatchObject({
      code: 'ERR_FLASH_POWER_CUT',
      details: { operation: 0, kind: 'erase', persisted: 0 },
    })
    await erase.close()
    const torn = new FlashSimPersistence({ ...options, powerCutAtOperation: { index: 1, tornBytes: 5 } })
    const error = await torn.start(v2.image, 0).catch((e: unknown) => e)
    expect(error).toMatchObject({
      code: 'ERR_FLASH_POWER_CUT',
      details: { operation: 1, kind: 'program', persisted: 5 },
    })
    expect((error as LinkkitError).details?.length).toBeGreaterThan(5)
    await torn.close()
    // The torn staging record reads as no record: nothing to resume, the old image boots.
    const { flash, boot } = await reboot(new FlashSimPersistence(options))
    expect(boot).toMatchObject({ version: '1.0.0', rolledBack: false })
    expect(await flash.resumeOffset(v2.image)).toBe(0)
    expect((await flash.state()).slots.B.status).toBe('empty')
    await flash.close()
  })
})

describe('FlashSimPersistence NOR semantics and wear', () => {
  it('refuses to program bytes that are not erased, until the sector is erased', async () => {
    const flash = await NorFlash.open(options.path, { sectorSizeBytes: sector, sectorCount: 4 })
    await flash.program(100, Uint8Array.of(1, 2, 3))
    await expect(flash.program(102, Uint8Array.of(9))).rejects.toMatchObject({
      code: 'ERR_PERSISTENCE_WRITE',
      details: { address: 102, sector: 0 },
    })
    await expect(flash.program(102, Uint8Array.of(0xff))).rejects.toMatchObject({
      code: 'ERR_PERSISTENCE_WRITE',
    })
    await flash.erase(0)
    expect(flash.isErased(0, sector)).toBe(true)
    await flash.program(102, Uint8Array.of(9))
    expect([...flash.read(100, 3)]).toEqual([0xff, 0xff, 9])
    await flash.close()
  })

  it('erases each sector of a reused slot before writing it, and counts erases and programmed bytes', async () => {
    let flash = await provision()
    const first = (await flash.state()).wear
    const slotA = { header: 2, data: 3 } // sector indexes: boot records 0 and 1, then slot A
    const slotB = { header: 2 + slot / sector, data: 3 + slot / sector }
    const used = (bytes: number) => Math.ceil(bytes / sector)
    expect(first.eraseCounts[slotA.header]).toBe(1)
    expect(first.eraseCounts.slice(slotA.data, slotA.data + used(v1.data.length))).toEqual(
      Array(used(v1.data.length)).fill(1),
    )
    expect(first.eraseCounts[slotA.data + used(v1.data.length)]).toBe(0)

    await download(flash, v2)
    await flash.activate()
    flash = (await reboot(flash)).flash
    await flash.confirm()
    // Slot A still holds v1: the next download goes there and must erase before programming.
    await download(flash, v3)
    flash = (await reboot(flash)).flash
    const { wear, slots } = await flash.state()
    expect(slots.A).toMatchObject({ status: 'ready', image: v3.image })
    expect(wear.eraseCounts[slotA.header]).toBe(2)
    expect(wear.eraseCounts.slice(slotA.data, slotA.data + used(v3.data.length))).toEqual(
      Array(used(v3.data.length)).fill(2),
    )
    expect(wear.eraseCounts[slotA.data + used(v3.data.length)]).toBe(1)
    expect(wear.eraseCounts[slotB.header]).toBe(1)
    expect(wear.eraseCounts.slice(0, 2).reduce((a, b) => a + b)).toBe(4) // provision, activate, trial boot, confirm
    expect(wear.programmedBytes - first.programmedBytes).toBeGreaterThan(v2.data.length + v3.data.length)
    expect(wear.programmedBytes - first.programmedBytes).toBeLessThan(v2.data.length + v3.data.length + 1000)
    await flash.close()
  })
})

describe('FlashSimPersistence power cut', () => {
  it('tears the write that crosses the cut, then refuses every operation until reopened', async () => {
    const setup = await provision()
    const before = (await setup.state()).wear.programmedBytes
    await setup.close()
    const flash = new FlashSimPersistence({ ...options, powerCutAt: 2_000 })
    await flash.start(v2.image, 0)
    await flash.write(v2.data.subarray(0, 1_500), 0)
    await expect(flash.write(v2.data.subarray(1_500, 3_000), 1_500)).rejects.toMatchObject({
      code: 'ERR_FLASH_POWER_CUT',
    })
    await expect(flash.state()).rejects.toMatchObject({ code: 'ERR_FLASH_POWER_CUT' })
    await expect(
      flash.stop({ ok: false, error: new LinkkitError('ERR_DOWNLOAD_FAILED'), resumable: false }),
    ).rejects.toMatchObject({
      code: 'ERR_FLASH_POWER_CUT',
    })
    await expect(flash.boot()).rejects.toMatchObject({ code: 'ERR_FLASH_POWER_CUT' })
    await flash.close()

    const next = new FlashSimPersistence(options)
    const { wear, slots } = await next.state()
    expect(wear.programmedBytes - before).toBe(2_000)
    expect(slots.B).toMatchObject({ status: 'staging', heldBytes: sector })
    expect(await next.boot()).toEqual({ slot: 'A', version: '1.0.0', rolledBack: false })
    await next.close()
  })

  it('injectPowerCut() tears a boot-record update; the old record still rules after the reboot', async () => {
    const flash = await provision()
    await download(flash, v2)
    await flash.injectPowerCut(7)
    await expect(flash.activate()).rejects.toMatchObject({ code: 'ERR_FLASH_POWER_CUT' })
    await flash.close()
    const next = new FlashSimPersistence(options)
    expect(await next.boot()).toEqual({ slot: 'A', version: '1.0.0', rolledBack: false })
    expect((await next.readStaged())?.image).toEqual(v2.image)
    await next.activate()
    expect(await next.boot()).toMatchObject({ slot: 'B', version: '2.0.0' })
    await next.close()
  })
})
