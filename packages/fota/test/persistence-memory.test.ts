import { LinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { MemoryPersistence } from '../src/persistence/memory.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'

const v1 = makeFirmware({ size: 5_000, seed: 1, version: '1.0.0' })
const v2 = makeFirmware({ size: 5_000, seed: 2, version: '2.0.0', signMethod: 'Md5' })
const failed = { ok: false, error: new LinkkitError('ERR_DOWNLOAD_FAILED'), resumable: false } as const

describe('MemoryPersistence', () => {
  it('copies each chunk, so a caller reusing its buffer does not corrupt the image', async () => {
    const adapter = new MemoryPersistence()
    const buffer = new Uint8Array(1000)
    adapter.start(v1.image, 0)
    for (let offset = 0; offset < v1.data.length; offset += buffer.length) {
      buffer.set(v1.data.subarray(offset, offset + buffer.length))
      adapter.write(buffer, offset)
      buffer.fill(0)
    }
    adapter.stop({ ok: true })
    expect(adapter.image).toEqual(v1.image)
    expect(Buffer.from(adapter.bytes() ?? []).equals(v1.data)).toBe(true)
  })

  it('never exposes an unverified image: a digest mismatch at commit keeps the previous one', () => {
    const adapter = new MemoryPersistence()
    adapter.start(v1.image, 0)
    adapter.write(v1.data, 0)
    adapter.stop({ ok: true })

    adapter.start({ ...v2.image, digest: v1.image.digest }, 0)
    adapter.write(v2.data, 0)
    expect(() => adapter.stop({ ok: true })).toThrow(expect.objectContaining({ code: 'ERR_PERSISTENCE' }))
    expect(adapter.image?.version).toBe('1.0.0')

    adapter.start(v2.image, 0)
    adapter.write(v2.data.subarray(0, 100), 0)
    expect(() => adapter.stop({ ok: true })).toThrow(expect.objectContaining({ code: 'ERR_PERSISTENCE' }))
    adapter.start(v2.image, 0)
    adapter.write(v2.data, 0)
    adapter.stop(failed)
    expect(adapter.image?.version).toBe('1.0.0')
  })

  it('returns a copy of the committed bytes', () => {
    const adapter = new MemoryPersistence()
    adapter.start(v1.image, 0)
    adapter.write(v1.data, 0)
    adapter.stop({ ok: true })
    adapter.bytes()?.fill(0)
    expect(Buffer.from(adapter.bytes() ?? []).equals(v1.data)).toBe(true)
  })

  it('refuses images above maxSizeBytes before holding any byte', () => {
    const adapter = new MemoryPersistence({ maxSizeBytes: 4_096 })
    expect(() => adapter.start(v1.image, 0)).toThrow(expect.objectContaining({ code: 'ERR_PERSISTENCE' }))
    expect(() => adapter.write(v1.data.subarray(0, 10), 0)).toThrow(
      expect.objectContaining({ code: 'ERR_PERSISTENCE_WRITE' }),
    )
    const lying = { ...v1.image, size: 100 }
    adapter.start(lying, 0)
    expect(() => adapter.write(v1.data, 0)).toThrow(
      expect.objectContaining({ code: 'ERR_PERSISTENCE_WRITE' }),
    )
    expect(() => new MemoryPersistence({ maxSizeBytes: -1 })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
  })

  it('cannot resume: it has no resumeOffset and refuses a start beyond 0', () => {
    const adapter = new MemoryPersistence()
    expect('resumeOffset' in adapter).toBe(false)
    expect(() => adapter.start(v1.image, 10)).toThrow(expect.objectContaining({ code: 'ERR_PERSISTENCE' }))
    expect(() => adapter.stop({ ok: true })).toThrow(expect.objectContaining({ code: 'ERR_PERSISTENCE' }))
    expect(() => adapter.stop(failed)).not.toThrow()
  })
})
