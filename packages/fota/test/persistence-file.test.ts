import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LinkkitError } from '@linkkit/core'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FilePersistence } from '../src/persistence/file.js'
import { makeFirmware } from '../src/testing/firmware-fixture.js'
import type { FirmwareImage } from '../src/types.js'

const here = dirname(fileURLToPath(import.meta.url))
const repoRoot = join(here, '../../..')
const { image, data } = makeFirmware({ size: 50_000, seed: 5, version: '2.0.0' })
const old = makeFirmware({ size: 7_000, seed: 6, version: '1.0.0' })

let dir: string
let path: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'linkkit-file-'))
  path = join(dir, 'ota.bin')
})
afterEach(() => rm(dir, { recursive: true, force: true }))

async function writeAll(adapter: FilePersistence, bytes: Uint8Array, from = 0, chunk = 4096) {
  for (let offset = from; offset < bytes.length; offset += chunk) {
    await adapter.write(bytes.subarray(offset, Math.min(bytes.length, offset + chunk)), offset)
  }
}

async function collect(chunks: AsyncIterable<Uint8Array>) {
  const parts: Uint8Array[] = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

/** Runs the child script until it reports the bytes it wrote, then kills it with SIGKILL. */
async function crashAfterWriting(
  target: FirmwareImage,
  bytes: Uint8Array,
  held: number,
  writeBufferBytes = 0,
) {
  const source = join(dir, 'source.bin')
  await writeFile(source, bytes)
  const script = join(here, 'fixtures/file-persistence-child.ts')
  const child = spawn(
    process.execPath,
    [
      '--conditions=development',
      '--import',
      'tsx',
      script,
      path,
      source,
      JSON.stringify(target),
      String(held),
    ],
    {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRITE_BUFFER_BYTES: String(writeBufferBytes) },
    },
  )
  let stderr = ''
  child.stderr.on('data', (text: Buffer) => {
    stderr += text.toString()
  })
  const exited = once(child, 'exit')
  let stdout = ''
  for await (const text of child.stdout) {
    stdout += String(text)
    if (stdout.includes('\n')) break
  }
  expect(stdout, stderr).toBe(`held ${held}\n`)
  child.kill('SIGKILL')
  const [code, signal] = await exited
  expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' })
}

describe('FilePersistence', () => {
  it('resumes after the process was killed mid-download, writing only the remainder', async () => {
    await crashAfterWriting(image, data, 23_000)

    const adapter = new FilePersistence({ path })
    expect(await adapter.resumeOffset(image)).toBe(23_000)
    expect((await collect(adapter.readBack(image, 23_000))).equals(data.subarray(0, 23_000))).toBe(true)
    await adapter.start(image, 23_000)
    let written = 0
    for (let offset = 23_000; offset < data.length; offset += 4096) {
      const chunk = data.subarray(offset, Math.min(data.length, offset + 4096))
      await adapter.write(chunk, offset)
      written += chunk.length
    }
    await adapter.stop({ ok: true })

    expect(written).toBe(data.length - 23_000)
    expect((await readFile(path)).equals(data)).toBe(true)
    expect(await readdir(dir)).toEqual(['ota.bin', 'source.bin'])
  })

  it('with write buffering, a crash loses at most one buffer and the download still resumes', async () => {
    await crashAfterWriting(image, data, 23_000, 4096)
    const adapter = new FilePersistence({ path, writeBufferBytes: 4096 })
    const held = await adapter.resumeOffset(image)
    expect(held).toBeGreaterThan(23_000 - 4096)
    expect(held).toBeLessThanOrEqual(23_000)
    await adapter.start(image, held)
    await writeAll(adapter, data, held)
    await adapter.stop({ ok: true })
    expect((await readFile(path)).equals(data)).toBe(true)
  })

  it('does not resume bytes held for another image, and discards them on a fresh start', async () => {
    await crashAfterWriting(old.image, old.data, 3_000)
    const adapter = new FilePersistence({ path })
    expect(await adapter.resumeOffset(old.image)).toBe(3_000)
    expect(await adapter.resumeOffset(image)).toBe(0)
    await expect(adapter.start(image, 3_000)).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await adapter.start(image, 0)
    expect(await adapter.resumeOffset(old.image)).toBe(0)
    await writeAll(adapter, data)
    await adapter.stop({ ok: true })
    expect((await readFile(path)).equals(data)).toBe(true)
  })

  it('treats a torn sidecar or an oversized staging file as nothing to resume', async () => {
    await writeFile(`${path}.part`, data.subarray(0, 100))
    await writeFile(`${path}.part.json`, '{"format":1,"vers')
    const adapter = new FilePersistence({ path })
    expect(await adapter.resumeOffset(image)).toBe(0)
    const small = { ...image, size: 50 }
    await writeFile(`${path}.part.json`, JSON.stringify({ format: 1, ...small }))
    expect(await adapter.resumeOffset(small)).toBe(0)
    await expect(collect(adapter.readBack(small, 10))).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
  })

  it('leaves the existing target untouched until the verified image is renamed over it', async () => {
    await writeFile(path, old.data)
    const adapter = new FilePersistence({ path })

    await adapter.start(image, 0)
    await writeAll(adapter, data.subarray(0, 30_000))
    expect((await readFile(path)).equals(old.data)).toBe(true)
    await adapter.stop({ ok: false, error: new LinkkitError('ERR_DIGEST_MISMATCH'), resumable: false })
    expect((await readFile(path)).equals(old.data)).toBe(true)
    expect(await readdir(dir)).toEqual(['ota.bin'])

    await adapter.start(image, 0)
    await writeAll(adapter, data)
    expect((await readFile(path)).equals(old.data)).toBe(true)
    await adapter.stop({ ok: true })
    expect((await readFile(path)).equals(data)).toBe(true)
    expect(await readdir(dir)).toEqual(['ota.bin'])
  })

  it('refuses to commit an incomplete image and discards it', async () => {
    await writeFile(path, old.data)
    const adapter = new FilePersistence({ path })
    await adapter.start(image, 0)
    await writeAll(adapter, data.subarray(0, 10_000))
    await expect(adapter.stop({ ok: true })).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    expect((await readFile(path)).equals(old.data)).toBe(true)
    expect(await readdir(dir)).toEqual(['ota.bin'])
  })

  it('maps fs failures to coded errors that keep the cause', async () => {
    const missing = new FilePersistence({ path: join(dir, 'no-such-dir', 'ota.bin') })
    const started = missing.start(image, 0)
    await expect(started).rejects.toMatchObject({ name: 'LinkkitError', code: 'ERR_PERSISTENCE' })
    await expect(started).rejects.toHaveProperty('cause.code', 'ENOENT')
    await expect(missing.write(data.subarray(0, 10), 0)).rejects.toMatchObject({
      code: 'ERR_PERSISTENCE_WRITE',
    })

    // The target is a non-empty directory: the final rename fails, the staging file goes away.
    await mkdir(path)
    await writeFile(join(path, 'keep'), 'x')
    const adapter = new FilePersistence({ path })
    await adapter.start(old.image, 0)
    await writeAll(adapter, old.data)
    const stopped = adapter.stop({ ok: true })
    await expect(stopped).rejects.toMatchObject({ code: 'ERR_PERSISTENCE' })
    await expect(stopped).rejects.toHaveProperty(
      'cause.code',
      expect.stringMatching(/^E(ISDIR|NOTEMPTY|EXIST)$/),
    )
    expect((await readdir(dir)).sort()).toEqual(['ota.bin'])
    expect(await readdir(path)).toEqual(['keep'])
  })

  it('refuses invalid options with a coded error', () => {
    expect(() => new FilePersistence({ path: '' })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
    )
    for (const options of [
      {},
      { path: 'a', dir: 'b' },
      { dir: 'b', imageName: '../x.bin' },
      { dir: 'b', imageName: '.hidden' },
    ]) {
      expect(() => new FilePersistence(options), JSON.stringify(options)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTIONS' }),
      )
    }
    expect(new FilePersistence({ dir: '/srv/fw' })).toMatchObject({
      dir: '/srv/fw',
      path: join('/srv/fw', 'firmware.bin'),
    })
  })
})
