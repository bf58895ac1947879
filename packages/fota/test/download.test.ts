import { createHash } from 'node:crypto'
import { isLinkkitError } from '@linkkit/core'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, digest, image, quick, rawServer, rejection, serve } from './download-helpers.js'

const MiB = 1024 * 1024

describe('downloadFirmware: happy paths', () => {
  it('streams an MD5-signed image with one GET and verifies it', async () => {
    const data = image(4 * MiB, 7)
    await using server = await serve(data)
    const progress: number[] = []
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: server.file.md5,
    }
    const { result, bytes } = await collect(source, { ...quick, onProgress: (held) => progress.push(held) })
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(result).toEqual({
      bytes: data.length,
      digest: digest(data, 'Md5'),
      requests: 1,
      bytesReceived: data.length,
    })
    expect(server.fileStats().ranges).toEqual(['bytes=0-'])
    expect(progress.at(-1)).toBe(data.length)
    expect(progress).toEqual([...progress].sort((a, b) => a - b))
  })

  it('verifies a SHA256-signed image, accepting the digest in upper case', async () => {
    const data = image(3 * MiB + 17, 8)
    await using server = await serve(data)
    const source = { url: server.file.url, size: data.length, signMethod: 'SHA256' as const }
    const { result, bytes } = await collect({ ...source, digest: server.file.sha256.toUpperCase() }, quick)
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(result.digest).toBe(server.file.sha256)
  })

  it('with chunkSizeBytes fetches consecutive ranges of that size', async () => {
    const data = image(MiB + 5, 9)
    await using server = await serve(data)
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: server.file.md5,
    }
    const { result, bytes } = await collect(source, { ...quick, chunkSizeBytes: 256 * 1024 })
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(result.requests).toBe(5)
    expect(server.fileStats().ranges).toEqual([
      'bytes=0-262143',
      'bytes=262144-524287',
      'bytes=524288-786431',
      'bytes=786432-1048575',
      'bytes=1048576-1048580',
    ])
    expect(server.fileStats().statuses).toEqual([206, 206, 206, 206, 206])
  })

  it('resumes from startOffset with a hash already fed with the held bytes', async () => {
    const data = image(2 * MiB, 10)
    await using server = await serve(data)
    const held = 300_000
    const initialHash = createHash('sha256').update(data.subarray(0, held))
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'SHA256' as const,
      digest: server.file.sha256,
    }
    const { result, bytes, offsets } = await collect(
      source,
      { ...quick, startOffset: held, initialHash },
      held,
    )
    expect(offsets[0]).toBe(held)
    expect(Buffer.compare(bytes.subarray(held), data.subarray(held))).toBe(0)
    expect(result).toMatchObject({ bytes: data.length, requests: 1, bytesReceived: data.length - held })
    expect(server.fileStats().ranges).toEqual([`bytes=${held}-`])
  })

  it('skips the held bytes when a server answers a ranged request with 200 and the whole file', async () => {
    const data = image(200_000, 11)
    const ranges: (string | undefined)[] = []
    await using raw = await rawServer((req, res) => {
      ranges.push(req.headers.range)
      res.writeHead(200, { 'Content-Length': String(data.length) })
      res.end(data)
    })
    const held = 123_457
    const initialHash = createHash('md5').update(data.subarray(0, held))
    const source = {
      url: raw.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: digest(data, 'Md5'),
    }
    const { result, bytes, offsets } = await collect(
      source,
      { ...quick, startOffset: held, initialHash },
      held,
    )
    expect(offsets[0]).toBe(held)
    expect(Buffer.compare(bytes.subarray(held), data.subarray(held))).toBe(0)
    expect(result.bytesReceived).toBe(data.length)
    expect(ranges).toEqual([`bytes=${held}-`])
  })

  it('rethrows the sink error unchanged and does not retry', async () => {
    const data = image(MiB, 12)
    await using server = await serve(data)
    const boom = new Error('flash write failed')
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: server.file.md5,
    }
    const error = await rejection(() =>
      downloadFirmware(
        source,
        () => {
          throw boom
        },
        quick,
      ),
    )
    expect(error).toBe(boom)
    expect(server.fileStats().requests).toBe(1)
  })
})

describe('downloadFirmware: refusals before any request', () => {
  it('refuses http: without allowHttp and makes no request', async () => {
    const data = image(1000)
    await using server = await serve(data)
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: server.file.md5,
    }
    const error = await rejection(() => downloadFirmware(source, () => {}))
    expect(isLinkkitError(error, 'ERR_HTTP_NOT_ALLOWED')).toBe(true)
    expect(server.fileStats().requests).toBe(0)
  })

  it('rejects offers with another scheme, a bad digest or an unknown signMethod', async () => {
    const base = {
      url: 'https://example.invalid/fw.bin',
      size: 10,
      signMethod: 'Md5' as const,
      digest: 'a'.repeat(32),
    }
    const sink = () => {}
    const cases = [
      { ...base, url: 'ftp://example.invalid/fw.bin' },
      { ...base, digest: 'xyz' },
      { ...base, signMethod: 'CRC32' as 'Md5' },
      { ...base, size: -1 },
    ]
    for (const bad of cases) {
      expect(isLinkkitError(await rejection(() => downloadFirmware(bad, sink)), 'ERR_OFFER_INVALID')).toBe(
        true,
      )
    }
    const noHash = await rejection(() => downloadFirmware(base, sink, { startOffset: 5 }))
    expect(isLinkkitError(noHash, 'ERR_INVALID_OPTIONS')).toBe(true)
    const badChunk = await rejection(() => downloadFirmware(base, sink, { chunkSizeBytes: 0 }))
    expect(isLinkkitError(badChunk, 'ERR_INVALID_OPTIONS')).toBe(true)
  })

  it('rejects at once with ERR_ABORTED when the signal is already aborted', async () => {
    const data = image(1000)
    await using server = await serve(data)
    const source = {
      url: server.file.url,
      size: data.length,
      signMethod: 'Md5' as const,
      digest: server.file.md5,
    }
    const error = await rejection(() =>
      downloadFirmware(source, () => {}, { ...quick, signal: AbortSignal.abort() }),
    )
    expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
    expect(server.fileStats().requests).toBe(0)
  })
})
