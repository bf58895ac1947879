import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Firmware } from '@linkkit/emulator'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FotaClient } from '../../src/fota-client.js'
import { FilePersistence } from '../../src/persistence/file.js'
import { FlashSimPersistence } from '../../src/persistence/flash-sim.js'
import { MemoryPersistence } from '../../src/persistence/memory.js'
import type { FirmwareOffer, FirmwarePersistence } from '../../src/types.js'
import { firmwareBytes } from '../helpers/firmware.js'
import { device, type Rig, startRig, waitFor } from '../helpers/rig.js'

/*
 * Finding 5: a multi-file offer (an application and its resources) used to be written file over
 * file into a one-image adapter, reported `100 verified`, and FlashSim then booted `res.bin` as the
 * application. Every adapter now either stores each file under its own name, committing the offer
 * only whole, or refuses it at its first `start`, before any byte, with -4.
 */
const app = firmwareBytes(60_000, 501)
const res = firmwareBytes(20_000, 502)

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-multi-file-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

async function client(rig: Rig, persistence: FirmwarePersistence): Promise<FotaClient> {
  const fota = new FotaClient(rig.connection, { version: '1.0.0', persistence, allowHttp: true })
  await fota.start()
  return fota
}

/** Adds firmware to the emulator, pushes it as a job and waits for the device's offer. */
async function pushed(rig: Rig, fota: FotaClient, files: Array<{ name: string; data: Uint8Array }>) {
  const firmware = await rig.emu.ota.addFirmware({
    productKey: device.productKey,
    version: '2.0.0',
    signMethod: 'SHA256',
    files,
  })
  const offers: FirmwareOffer[] = []
  fota.on('fota', (offer) => offers.push(offer))
  const job = await rig.emu.ota.push({ ...device, firmware })
  const offer = await waitFor(() => offers[0], 3000, 'the offer')
  return { firmware, job, offer }
}

const requests = (rig: Rig, firmware: Firmware) =>
  firmware.files.reduce((n, f) => n + rig.emu.ota.stats(firmware, f.name).requests, 0)

async function expectRefusedBeforeAnyByte(
  rig: Rig,
  fota: FotaClient,
  firmware: Firmware,
  jobId: string,
  offer: FirmwareOffer,
) {
  const error = await fota.download(offer).catch((e: unknown) => e)
  expect(error).toMatchObject({
    name: 'LinkkitError',
    code: 'ERR_PERSISTENCE',
    details: { reason: 'multi-file' },
  })
  expect(requests(rig, firmware), 'bytes fetched').toBe(0)
  const job = await rig.emu.ota.waitForJob(jobId, 'failed', 3000)
  expect(job.failure?.step).toBe(-4)
  expect(job.failure?.desc).toMatch(/holds one image; this offer has 2 files/)
}

describe('multi-file offers into one-image adapters are refused before any byte (-4)', () => {
  it('FilePersistence({ path }): the target keeps its old content and nothing is staged', async () => {
    await using rig = await startRig()
    const path = join(dir, 'ota.bin')
    await writeFile(path, 'running image')
    await using fota = await client(rig, new FilePersistence({ path }))
    const { firmware, job, offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    await expectRefusedBeforeAnyByte(rig, fota, firmware, job.id, offer)
    expect(await readFile(path, 'utf8')).toBe('running image')
    expect(await readdir(dir)).toEqual(['ota.bin'])
  })

  it('FlashSimPersistence: the flash is not touched, and nothing but the application ever boots', async () => {
    await using rig = await startRig()
    const geometry = { path: join(dir, 'flash.bin'), sectorSizeBytes: 4096, slotSizeBytes: 128 * 1024 }
    const factory = firmwareBytes(30_000, 503)
    const flash = await FlashSimPersistence.provision({
      ...geometry,
      image: { version: '1.0.0', data: factory },
    })
    const before = await flash.state()
    await using fota = await client(rig, flash)
    const { firmware, job, offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    await expectRefusedBeforeAnyByte(rig, fota, firmware, job.id, offer)
    expect((await flash.state()).wear).toEqual(before.wear)
    // What the finding saw: activate() then boot() ran res.bin. Now there is nothing to activate.
    await expect(flash.activate()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await flash.close()
    await using rebooted = new FlashSimPersistence(geometry)
    expect(await rebooted.boot()).toMatchObject({ slot: 'A', version: '1.0.0', rolledBack: false })
    expect(Buffer.from((await rebooted.readSlot('A'))?.bytes ?? []).equals(factory)).toBe(true)
  })

  it('a one-file "multi-file" offer is the image itself, and FlashSim takes it', async () => {
    await using rig = await startRig()
    const geometry = { path: join(dir, 'flash.bin'), sectorSizeBytes: 4096, slotSizeBytes: 128 * 1024 }
    const flash = await FlashSimPersistence.provision({
      ...geometry,
      image: { version: '1.0.0', data: firmwareBytes(30_000, 504) },
    })
    await using fota = await client(rig, flash)
    const { offer } = await pushed(rig, fota, [{ name: 'app.bin', data: app }])
    await fota.download(offer)
    expect(await flash.activate()).toMatchObject({ version: '2.0.0', name: 'app.bin' })
    await flash.close()
  })
})

describe('multi-file offers into adapters that hold every file', () => {
  it('FilePersistence({ dir }): each file under its own name, and the job succeeds', async () => {
    await using rig = await startRig()
    await using fota = await client(rig, new FilePersistence({ dir }))
    const { job, offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    const result = await fota.download(offer)
    expect(result.files.map((f) => f.name)).toEqual(['app.bin', 'res.bin'])
    expect((await readFile(join(dir, 'app.bin'))).equals(app)).toBe(true)
    expect((await readFile(join(dir, 'res.bin'))).equals(res)).toBe(true)
    expect(await readdir(join(dir, '.linkkit-ota'))).toEqual([])
    await fota.reportVersion('2.0.0')
    await rig.emu.ota.waitForJob(job.id, 'succeeded', 3000)
  })

  it('MemoryPersistence: each file under its own name', async () => {
    await using rig = await startRig()
    const memory = new MemoryPersistence()
    await using fota = await client(rig, memory)
    const { offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    await fota.download(offer)
    expect(memory.images.map((image) => image.name)).toEqual(['app.bin', 'res.bin'])
    expect(Buffer.from(memory.bytes('app.bin') ?? []).equals(app)).toBe(true)
    expect(Buffer.from(memory.bytes('res.bin') ?? []).equals(res)).toBe(true)
  })

  it('FilePersistence({ dir }): a bad second file leaves every file of the previous offer in place', async () => {
    await using rig = await startRig()
    await writeFile(join(dir, 'app.bin'), 'old app')
    await writeFile(join(dir, 'res.bin'), 'old res')
    await using fota = await client(rig, new FilePersistence({ dir }))
    const { firmware, job, offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    rig.emu.ota.faults.for(firmware, 'res.bin').corruptByte(1000)
    const error = await fota.download(offer).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_DIGEST_MISMATCH' })
    expect((await rig.emu.ota.waitForJob(job.id, 'failed', 3000)).failure?.step).toBe(-3)
    // app.bin was verified, but the offer is refused whole: neither file changed, nothing lingers.
    expect(await readFile(join(dir, 'app.bin'), 'utf8')).toBe('old app')
    expect(await readFile(join(dir, 'res.bin'), 'utf8')).toBe('old res')
    expect(await readdir(join(dir, '.linkkit-ota'))).toEqual([])
  })

  it('FilePersistence({ dir }): a file name that would leave the directory is refused before any byte', async () => {
    await using rig = await startRig()
    const inside = join(dir, 'inside')
    await mkdir(inside)
    const offers: FirmwareOffer[] = []
    await using fota = await client(rig, new FilePersistence({ dir: inside }))
    fota.on('fota', (offer) => offers.push(offer))
    for (const name of ['../escape.bin', '..', '.linkkit-ota', 'a\\b.bin', 'con:', 'x\u0001.bin']) {
      const served = await rig.emu.ota.addFirmware({
        productKey: device.productKey,
        version: '2.0.0',
        files: [
          { name: 'app.bin', data: app },
          { name: 'res.bin', data: res },
        ],
      })
      // The emulator names files safely; the hostile name is the offer's, as a rogue cloud would send it.
      await rig.push({
        version: '2.0.0',
        signMethod: 'Md5',
        files: served.files.map((f, i) => ({
          fileName: i === 1 ? name : f.name,
          fileSize: f.size,
          fileUrl: f.url,
          fileMd5: f.md5,
        })),
      })
      const offer = await waitFor(() => offers.shift(), 3000, 'the offer')
      const error = await fota.download(offer).catch((e: unknown) => e)
      expect(error, name).toMatchObject({ code: 'ERR_PERSISTENCE', details: { reason: 'file-name' } })
      expect(requests(rig, served), `bytes fetched for ${JSON.stringify(name)}`).toBe(0)
    }
    expect(await readdir(dir)).toEqual(['inside'])
    expect(await readdir(inside), 'not even the staging directory').toEqual([])
  })

  it('FilePersistence({ dir }): an offer interrupted in its second file resumes without fetching the first again', async () => {
    await using rig = await startRig()
    await using fota = await client(rig, new FilePersistence({ dir }))
    const big = firmwareBytes(600_000, 505)
    const { firmware, offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: big },
    ])
    rig.emu.ota.faults.for(firmware, 'res.bin').throttle(2 * 1024 * 1024)
    const abort = new AbortController()
    fota.on('fota:progress', (p) => {
      if (p.file === 'res.bin' && p.bytes > app.length + 200_000) abort.abort()
    })
    const error = await fota.download(offer, { signal: abort.signal }).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_ABORTED' })
    expect(await readdir(dir), 'nothing committed').toEqual(['.linkkit-ota'])
    fota.removeAllListeners('fota:progress')
    rig.emu.ota.faults.for(firmware, 'res.bin').clear()
    // The server notices the aborted request's socket closing a moment after the client let go.
    await waitFor(
      () => rig.emu.ota.stats(firmware, 'res.bin').sending === 0 || undefined,
      3000,
      'the first response to end',
    )
    const appSent = rig.emu.ota.stats(firmware, 'app.bin').bytesSent
    const resSent = rig.emu.ota.stats(firmware, 'res.bin').bytesSent
    const result = await fota.download(offer)
    expect(rig.emu.ota.stats(firmware, 'app.bin').bytesSent - appSent, 'app.bin fetched again').toBe(0)
    const resumedRes = result.resumedBytes - app.length
    expect(resumedRes).toBeGreaterThan(100_000)
    expect(rig.emu.ota.stats(firmware, 'res.bin').bytesSent - resSent).toBe(big.length - resumedRes)
    expect((await readFile(join(dir, 'app.bin'))).equals(app)).toBe(true)
    expect((await readFile(join(dir, 'res.bin'))).equals(big)).toBe(true)
  })

  it('FilePersistence({ dir }): a commit interrupted between two renames is finished by the next instance', async () => {
    await using rig = await startRig()
    await using fota = await client(rig, new FilePersistence({ dir, fsync: false }))
    const { offer } = await pushed(rig, fota, [
      { name: 'app.bin', data: app },
      { name: 'res.bin', data: res },
    ])
    // A non-empty directory where res.bin goes makes its rename fail after app.bin's succeeded.
    await mkdir(join(dir, 'res.bin'))
    await writeFile(join(dir, 'res.bin', 'blocker'), '')
    const error = await fota.download(offer).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'ERR_PERSISTENCE' })
    await rm(join(dir, 'res.bin'), { recursive: true })
    // At start-up (or at any call) the journal completes the offer: both files, never one.
    await new FilePersistence({ dir }).recover()
    expect((await readFile(join(dir, 'app.bin'))).equals(app)).toBe(true)
    expect((await readFile(join(dir, 'res.bin'))).equals(res)).toBe(true)
    expect(await readdir(join(dir, '.linkkit-ota'))).toEqual([])
  })
})
