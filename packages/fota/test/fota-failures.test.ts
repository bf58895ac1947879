import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { isLinkkitError, LinkkitError } from '@linkkit/core'
import { SpyPersistence } from '@linkkit/testing/persistence'
import { describe, expect, it } from 'vitest'
import { FotaClient } from '../src/fota-client.js'
import { FlashSimPersistence } from '../src/persistence/flash-sim.js'
import { MemoryPersistence } from '../src/persistence/memory.js'
import type { FirmwareOffer, FirmwarePersistence } from '../src/types.js'
import { firmwareBytes, MiB, offerData } from './helpers/firmware.js'
import { type Rig, startRig, steps, waitFor } from './helpers/rig.js'

const fast = { retry: { limit: 3, baseDelayMs: 5, maxDelayMs: 20 } }

/** Pushes an offer and returns it as the application's `fota` listener receives it. */
async function offered(rig: Rig, fota: FotaClient, data: Record<string, unknown>): Promise<FirmwareOffer> {
  const offers: FirmwareOffer[] = []
  fota.on('fota', (offer) => offers.push(offer))
  await rig.push(data)
  return waitFor(() => offers[0], 2000, 'the fota event')
}

async function rejection(promise: Promise<unknown>): Promise<LinkkitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  if (!isLinkkitError(error)) throw new Error(`expected a LinkkitError rejection, got ${String(error)}`)
  return error
}

async function client(rig: Rig, persistence: FirmwarePersistence, allowHttp = true) {
  const fota = new FotaClient(rig.connection, {
    version: '1.0.0',
    persistence,
    allowHttp,
    download: fast,
  })
  await fota.start()
  return fota
}

describe('FotaClient: failed downloads are reported and never committed', () => {
  it('a corrupted image rejects ERR_DIGEST_MISMATCH, reports -3 and stops with ok:false', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(MiB, 21)
    const file = rig.files.addFile({ data })
    rig.files.faultsFor(file.id).corruptByte(300_000)
    const memory = new MemoryPersistence()
    const spy = new SpyPersistence(memory)
    await using fota = await client(rig, spy)
    const offer = await offered(rig, fota, offerData(file))

    const error = await rejection(fota.download(offer))
    expect(error.code).toBe('ERR_DIGEST_MISMATCH')
    expect(error.details).toMatchObject({ expected: file.md5 })
    expect(spy.stops).toHaveLength(1)
    expect(spy.stops[0]).toMatchObject({ ok: false, error: { code: 'ERR_DIGEST_MISMATCH' } })
    expect(memory.image).toBeUndefined()
    expect(memory.bytes()).toBeUndefined()
    await waitFor(() => rig.progress.some((p) => p.step === '-3'), 2000, 'step -3')
    expect(steps(rig.progress)).not.toContain('100')
    expect(steps(rig.progress).at(-1)).toBe('-3')
  })

  it('a corrupted image written to the simulated flash never becomes bootable', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'linkkit-fota-flash-'))
    try {
      await using rig = await startRig()
      const path = join(dir, 'flash.bin')
      const factory = firmwareBytes(200_000, 3)
      await (
        await FlashSimPersistence.provision({ path, image: { version: '1.0.0', data: factory } })
      ).close()
      const data = firmwareBytes(600_000, 22)
      const file = rig.files.addFile({ data })
      rig.files.faultsFor(file.id).corruptByte(599_999)
      const flash = new FlashSimPersistence({ path })
      await using fota = await client(rig, flash)
      const offer = await offered(rig, fota, offerData(file, { signMethod: 'SHA256' }))

      expect((await rejection(fota.download(offer))).code).toBe('ERR_DIGEST_MISMATCH')
      expect(await flash.readStaged()).toBeUndefined()
      await expect(flash.activate()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
      expect(await flash.boot()).toMatchObject({ version: '1.0.0', rolledBack: false })
      await flash.close()
      // A reboot (a new instance on the same flash) still runs the factory image.
      await using rebooted = new FlashSimPersistence({ path })
      expect(await rebooted.boot()).toMatchObject({ version: '1.0.0' })
      expect(await rebooted.activeVersion()).toBe('1.0.0')
      await waitFor(() => rig.progress.some((p) => p.step === '-3'), 2000, 'step -3')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('an unknown file (404) rejects ERR_DOWNLOAD_HTTP_STATUS at once after one request and reports -2', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(64 * 1024, 23) })
    const spy = new SpyPersistence(new MemoryPersistence())
    await using fota = await client(rig, spy)
    // The link expired or the object was deleted: the server no longer knows the file.
    rig.files.removeFile(file.id)
    const offer = await offered(rig, fota, offerData(file))

    const started = Date.now()
    const error = await rejection(fota.download(offer))
    expect(Date.now() - started).toBeLessThan(2000)
    expect(error.code).toBe('ERR_DOWNLOAD_HTTP_STATUS')
    expect(error.httpStatus).toBe(404)
    expect(rig.httpRequests).toEqual([`GET ${new URL(file.url).pathname}`])
    expect(spy.stops).toEqual([{ ok: false, error, resumable: true }])
    await waitFor(() => rig.progress.some((p) => p.step === '-2'), 2000, 'step -2')
    expect(steps(rig.progress)).toEqual(['0', '-2'])
  })

  it('a persistence write that throws rejects ERR_PERSISTENCE_WRITE, reports -4 and stops once', async () => {
    await using rig = await startRig()
    const data = firmwareBytes(MiB, 24)
    const file = rig.files.addFile({ data })
    const memory = new MemoryPersistence()
    const spy = new SpyPersistence(memory, {
      write: (_chunk, offset) => {
        if (offset >= 200_000) throw new Error('flash sector 49 failed to program')
      },
    })
    await using fota = await client(rig, spy)
    const offer = await offered(rig, fota, offerData(file))

    const error = await rejection(fota.download(offer))
    expect(error.code).toBe('ERR_PERSISTENCE_WRITE')
    expect((error.cause as Error).message).toContain('flash sector 49')
    expect(spy.stops).toHaveLength(1)
    expect(spy.stops[0]).toMatchObject({ ok: false, error: { code: 'ERR_PERSISTENCE_WRITE' } })
    expect(memory.image).toBeUndefined()
    // A burn failure is not retried: the server was asked once.
    expect(rig.files.stats(file.id).requests).toBe(1)
    await waitFor(() => rig.progress.some((p) => p.step === '-4'), 2000, 'step -4')
    expect(steps(rig.progress).at(-1)).toBe('-4')
  })

  it('a commit that fails rejects ERR_PERSISTENCE, reports -4 and calls stop exactly once', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(100_000, 25) })
    const spy = new SpyPersistence(new MemoryPersistence(), {
      stop: (outcome) => {
        if (outcome.ok) throw new LinkkitError('ERR_PERSISTENCE', 'disk full')
      },
    })
    await using fota = await client(rig, spy)
    const offer = await offered(rig, fota, offerData(file))

    const error = await rejection(fota.download(offer))
    expect(error.code).toBe('ERR_PERSISTENCE')
    expect(spy.stops).toEqual([{ ok: true }])
    await waitFor(() => rig.progress.some((p) => p.step === '-4'), 2000, 'step -4')
    expect(steps(rig.progress)).not.toContain('100')
  })

  it('plain http is refused without allowHttp: ERR_HTTP_NOT_ALLOWED, no request, -2', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(64 * 1024, 26) })
    const spy = new SpyPersistence(new MemoryPersistence())
    await using fota = await client(rig, spy, false)
    const offer = await offered(rig, fota, offerData(file))

    const error = await rejection(fota.download(offer))
    expect(error.code).toBe('ERR_HTTP_NOT_ALLOWED')
    expect(error.message).not.toContain('?')
    expect(rig.httpRequests).toEqual([])
    expect(spy.calls.filter((c) => c.op === 'write')).toEqual([])
    await waitFor(() => rig.progress.some((p) => p.step === '-2'), 2000, 'step -2')
    expect(steps(rig.progress).at(-1)).toBe('-2')
  })
})

describe('FotaClient: cancelling a download', () => {
  it('an aborted signal rejects ERR_ABORTED promptly, stops with ok:false and commits nothing', async () => {
    await using rig = await startRig()
    const file = rig.files.addFile({ data: firmwareBytes(MiB, 27) })
    rig.files.faultsFor(file.id).throttle(MiB)
    const memory = new MemoryPersistence()
    const spy = new SpyPersistence(memory)
    await using fota = await client(rig, spy)
    const offer = await offered(rig, fota, offerData(file))
    const abort = new AbortController()
    const stopAt = (p: { bytes: number }) => {
      if (p.bytes > 100_000) abort.abort()
    }
    fota.on('fota:progress', stopAt)

    const started = Date.now()
    const error = await rejection(fota.download(offer, { signal: abort.signal }))
    expect(error.code).toBe('ERR_ABORTED')
    expect(Date.now() - started).toBeLessThan(1000)
    expect(spy.stops).toEqual([{ ok: false, error, resumable: true }])
    expect(memory.image).toBeUndefined()
    expect(rig.files.stats(file.id).requests).toBe(1)
    // The module is free again.
    fota.off('fota:progress', stopAt)
    rig.files.faultsFor(file.id).clear()
    await expect(fota.download(offer)).resolves.toMatchObject({ bytes: MiB })
  })
})
