import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FilePersistence } from '../src/persistence/file.js'
import { makeFirmware, makeOfferFiles } from '../src/testing/firmware-fixture.js'
import type { FirmwareImage } from '../src/types.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-file-trial-'))
})
afterEach(() => rm(dir, { recursive: true, force: true }))

/** What the downloader does for a verified image: start, every byte, stop({ ok: true }). */
async function store(adapter: FilePersistence, image: FirmwareImage, data: Uint8Array): Promise<void> {
  await adapter.start(image, 0)
  await adapter.write(data, 0)
  await adapter.stop({ ok: true })
}

const factory = Buffer.from('factory image 1.0.0 '.repeat(500))
const v2 = makeFirmware({ size: 30_000, seed: 2, version: '2.0.0' })
const withCounter = (image: FirmwareImage, securityVersion: number): FirmwareImage => ({
  ...image,
  securityVersion,
})

describe('FilePersistence trial boots (one image)', () => {
  it('activate → boot runs the new image on trial; a second boot without confirm puts the factory file back', async () => {
    const path = join(dir, 'app.bin')
    await writeFile(path, factory)
    const adapter = new FilePersistence({ path })
    expect(await adapter.boot()).toEqual({ version: undefined, rolledBack: false })
    await store(adapter, withCounter(v2.image, 5), v2.data)
    // Committed, not yet activated: the new file is in place, the old one kept beside it.
    expect(Buffer.compare(await readFile(path), v2.data)).toBe(0)
    expect(Buffer.compare(await readFile(`${path}.previous`), factory)).toBe(0)
    await expect(adapter.activate({ confirmWithinBoots: 1 })).resolves.toMatchObject({ version: '2.0.0' })
    expect(await adapter.boot()).toEqual({ version: '2.0.0', rolledBack: false })
    expect((await adapter.bootState()).trial).toMatchObject({
      version: '2.0.0',
      securityVersion: 5,
      bootsLeft: 0,
    })
    // Downloads wait while a trial runs.
    await expect(adapter.start(v2.image, 0)).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })

    const again = new FilePersistence({ path })
    expect(await again.boot()).toEqual({ version: undefined, rolledBack: true })
    expect(Buffer.compare(await readFile(path), factory)).toBe(0)
    expect(await again.bootState()).toMatchObject({
      rolledBack: { version: '2.0.0' },
      securityVersion: 0,
      trial: undefined,
    })
    await again.rollbackReported()
    expect((await again.bootState()).rolledBack).toBeUndefined()
    expect(await readdir(dir)).toEqual(['app.bin', 'app.bin.boot.json'])
  })

  it('confirm keeps the image, drops the kept file and raises the counter; later boots stay', async () => {
    const path = join(dir, 'app.bin')
    await writeFile(path, factory)
    const adapter = new FilePersistence({ path })
    await adapter.boot()
    await store(adapter, withCounter(v2.image, 3), v2.data)
    await adapter.activate({ confirmWithinBoots: 2 })
    await expect(adapter.confirm()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' }) // not booted yet
    await adapter.boot()
    await adapter.boot() // the second of two trial boots
    await adapter.confirm()
    expect(await adapter.bootState()).toMatchObject({
      version: '2.0.0',
      trial: undefined,
      securityVersion: 3,
    })
    expect(await readdir(dir)).toEqual(['app.bin', 'app.bin.boot.json'])
    const later = new FilePersistence({ path })
    expect(await later.boot()).toEqual({ version: '2.0.0', rolledBack: false })
    expect(Buffer.compare(await readFile(path), v2.data)).toBe(0)
  })

  it('a refused download leaves the running file and the boot state as they were', async () => {
    const path = join(dir, 'app.bin')
    await writeFile(path, factory)
    const adapter = new FilePersistence({ path })
    await adapter.boot()
    await adapter.start(v2.image, 0)
    await adapter.write(v2.data.subarray(0, 10_000), 0)
    const { LinkkitError } = await import('@linkkit/core')
    await adapter.stop({
      ok: false,
      error: new LinkkitError('ERR_SIGNATURE_INVALID', 'bad'),
      resumable: false,
    })
    expect(Buffer.compare(await readFile(path), factory)).toBe(0)
    await expect(adapter.activate()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    expect(await readdir(dir)).toEqual(['app.bin', 'app.bin.boot.json'])
  })

  it('without boot() a commit is what it always was: no kept file, no boot file, nothing to activate', async () => {
    const path = join(dir, 'app.bin')
    await writeFile(path, factory)
    const adapter = new FilePersistence({ path })
    await store(adapter, v2.image, v2.data)
    expect(await readdir(dir)).toEqual(['app.bin'])
    await expect(adapter.activate()).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
  })

  it('keepPrevious: false keeps nothing, so there is nothing to roll back to', async () => {
    const path = join(dir, 'app.bin')
    await writeFile(path, factory)
    const adapter = new FilePersistence({ path, keepPrevious: false })
    await adapter.boot()
    await store(adapter, v2.image, v2.data)
    expect(await readdir(dir)).toEqual(['app.bin', 'app.bin.boot.json'])
    await expect(adapter.activate()).rejects.toThrow(/nothing to roll back to/)
  })
})

describe('FilePersistence trial boots (directory of files)', () => {
  it('a multi-file offer rolls back whole: replaced files come back, added ones go', async () => {
    await writeFile(join(dir, 'app.bin'), 'old app')
    await writeFile(join(dir, 'res.pak'), 'old resources')
    const adapter = new FilePersistence({ dir })
    await adapter.boot()
    const files = makeOfferFiles({
      version: '3.0.0',
      files: [
        { name: 'app.bin', size: 9_000 },
        { name: 'res.pak', size: 4_000 },
        { name: 'fonts.pak', size: 2_000 },
      ],
    })
    for (const file of files) await store(adapter, file.image, file.data)
    expect((await readFile(join(dir, 'fonts.pak'))).length).toBe(2_000)
    await adapter.activate()
    expect(await adapter.boot()).toMatchObject({ version: '3.0.0', rolledBack: false })

    const after = new FilePersistence({ dir })
    expect(await after.boot()).toMatchObject({ rolledBack: true })
    expect(await readFile(join(dir, 'app.bin'), 'utf8')).toBe('old app')
    expect(await readFile(join(dir, 'res.pak'), 'utf8')).toBe('old resources')
    await expect(readFile(join(dir, 'fonts.pak'))).rejects.toMatchObject({ code: 'ENOENT' })
  })
})
