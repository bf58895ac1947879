import { isLinkkitError, LinkkitError } from '@linkkit/core'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { downloadFirmware } from '../src/download/index.js'
import { collect, countingSink, image, quick, rawServer, rejection, serve } from './download-helpers.js'

const MiB = 1024 * 1024

async function served(size: number, seed: number) {
  const data = image(size, seed)
  const server = await serve(data)
  const source = { url: server.file.url, size, signMethod: 'Md5' as const, digest: server.file.md5 }
  return { data, server, source }
}

describe('downloadFirmware: transient faults are resumed with Range', () => {
  it('completes through three connection resets without a retry storm', async () => {
    const { data, server, source } = await served(2 * MiB, 21)
    await using _ = server
    server.fileFaults.resetAfter(700_000, 3)
    const { result, bytes } = await collect(source, quick)
    expect(Buffer.compare(bytes, data)).toBe(0)
    const stats = server.fileStats()
    expect(stats.requests).toBe(4)
    expect(stats.ranges[0]).toBe('bytes=0-')
    expect(stats.ranges.some((range) => /^bytes=[1-9]\d*-$/.test(range))).toBe(true)
    expect(result.bytesReceived).toBeLessThanOrEqual(1.02 * data.length)
    // An RST discards what was still in flight, so the server may have written more than arrived.
    expect(stats.bytesSent).toBeLessThanOrEqual(data.length + 3 * 700_000)
  })

  it('retries 503 twice, then completes', async () => {
    const { data, server, source } = await served(MiB, 22)
    await using _ = server
    server.fileFaults.status(503, 2)
    const { bytes, result } = await collect(source, quick)
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(server.fileStats().statuses).toEqual([503, 503, 206])
    expect(result.requests).toBe(3)
  })

  it('aborts a stalled attempt after idleTimeoutMs and resumes where it stopped', async () => {
    const { data, server, source } = await served(MiB, 23)
    await using _ = server
    server.fileFaults.stallAfter(300_000)
    const started = Date.now()
    const { bytes } = await collect(source, { ...quick, idleTimeoutMs: 200 })
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(Date.now() - started).toBeLessThan(3000)
    const { ranges } = server.fileStats()
    expect(ranges).toHaveLength(2)
    expect(Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1])).toBeGreaterThanOrEqual(250_000)
  })

  it('keeps going while each attempt makes progress (the retry window restarts after any byte)', async () => {
    const { data, server, source } = await served(MiB, 24)
    await using _ = server
    server.fileFaults.truncate(128 * 1024, Number.POSITIVE_INFINITY)
    const { bytes } = await collect(source, { ...quick, retry: { limit: 1, baseDelayMs: 1, maxDelayMs: 1 } })
    expect(Buffer.compare(bytes, data)).toBe(0)
    expect(server.fileStats().requests).toBe(8)
    expect(server.fileStats().bytesSent).toBe(data.length)
  })
})

describe('downloadFirmware: failures', () => {
  it('stops at once on a 404 with exactly one request', async () => {
    const { server, source } = await served(MiB, 31)
    await using _ = server
    server.fileFaults.status(404)
    const started = Date.now()
    const error = await rejection(() =>
      downloadFirmware(source, () => {}, { ...quick, retry: { baseDelayMs: 2000 } }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_HTTP_STATUS')).toBe(true)
    expect((error as LinkkitError).httpStatus).toBe(404)
    expect(Date.now() - started).toBeLessThan(1000)
    expect(server.fileStats().requests).toBe(1)
  })

  it('fails with ERR_DIGEST_MISMATCH when one byte arrives corrupted', async () => {
    const { server, source } = await served(MiB, 32)
    await using _ = server
    server.fileFaults.corruptByte(500_000)
    const error = await rejection(() => collect(source, quick))
    expect(isLinkkitError(error, 'ERR_DIGEST_MISMATCH')).toBe(true)
    const { details } = error as LinkkitError
    expect(details?.expected).toBe(source.digest)
    expect(details?.actual).toMatch(/^[0-9a-f]{32}$/)
    expect(details?.actual).not.toBe(source.digest)
  })

  it('fails with ERR_SIZE_MISMATCH on a long body before the sink sees a byte', async () => {
    const { server, source } = await served(MiB, 33)
    await using _ = server
    server.fileFaults.extraBytes(100)
    const sunk = countingSink()
    const error = await rejection(() => downloadFirmware(source, sunk.sink, quick))
    expect(isLinkkitError(error, 'ERR_SIZE_MISMATCH')).toBe(true)
    expect(sunk.bytes).toBe(0)
    expect(server.fileStats().requests).toBe(1)
  })

  it('stops reading a body without Content-Length once it passes the offer size', async () => {
    const data = image(300_000, 34)
    await using raw = await rawServer((_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' })
      res.write(data)
      res.end(new Uint8Array(5000))
    })
    const sunk = countingSink()
    const source = { url: raw.url, size: data.length, signMethod: 'Md5' as const, digest: 'a'.repeat(32) }
    const error = await rejection(() => downloadFirmware(source, sunk.sink, quick))
    expect(isLinkkitError(error, 'ERR_SIZE_MISMATCH')).toBe(true)
    expect(sunk.bytes).toBeLessThanOrEqual(data.length)
  })

  it('fails with ERR_SIZE_MISMATCH when the server holds a shorter file', async () => {
    const { server, source } = await served(MiB, 35)
    await using _ = server
    server.fileFaults.extraBytes(-100)
    const error = await rejection(() => collect(source, quick))
    expect(isLinkkitError(error, 'ERR_SIZE_MISMATCH')).toBe(true)
  })

  it('gives up with ERR_DOWNLOAD_FAILED after the retry budget when every attempt is reset', async () => {
    const { server, source } = await served(MiB, 36)
    await using _ = server
    server.fileFaults.resetAfter(0, Number.POSITIVE_INFINITY)
    const error = await rejection(() => collect(source, { ...quick, retry: { limit: 3, baseDelayMs: 1 } }))
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect(server.fileStats().requests).toBe(4)
    expect(isLinkkitError((error as Error).cause, 'ERR_DOWNLOAD_FAILED')).toBe(true)
  })

  it('keeps ERR_DOWNLOAD_TIMEOUT as the cause when stalls exhaust the budget', async () => {
    const { server, source } = await served(MiB, 37)
    await using _ = server
    server.fileFaults.stallAfter(0, Number.POSITIVE_INFINITY, Number.POSITIVE_INFINITY)
    const error = await rejection(() =>
      collect(source, { ...quick, idleTimeoutMs: 100, retry: { limit: 1, baseDelayMs: 1 } }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect(isLinkkitError((error as Error).cause, 'ERR_DOWNLOAD_TIMEOUT')).toBe(true)
    expect(server.fileStats().requests).toBe(2)
  })

  it('treats a 206 that starts elsewhere than asked as a failed attempt', async () => {
    const data = image(10_000, 38)
    await using raw = await rawServer((_req, res) => {
      res.writeHead(206, { 'Content-Length': '10', 'Content-Range': `bytes 5-14/${data.length}` })
      res.end(data.subarray(5, 15))
    })
    const sunk = countingSink()
    const source = { url: raw.url, size: data.length, signMethod: 'Md5' as const, digest: 'a'.repeat(32) }
    const error = await rejection(() =>
      downloadFirmware(source, sunk.sink, {
        ...quick,
        retry: { limit: 1, baseDelayMs: 1 },
      }),
    )
    expect(isLinkkitError(error, 'ERR_DOWNLOAD_FAILED')).toBe(true)
    expect((error as LinkkitError).message).toMatch(/starts at 5/)
    expect(sunk.bytes).toBe(0)
  })

  it('never puts the signed query string into errors', async () => {
    const { server, source } = await served(1000, 39)
    await using _ = server
    server.fileFaults.resetAfter(0, Number.POSITIVE_INFINITY)
    const signed = { ...source, url: `${source.url}?Expires=1700000000&Signature=s3cr3t%2Bsig` }
    const lines: string[] = []
    const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(line) })
    const failed = await rejection(() =>
      collect(signed, { ...quick, logger, retry: { limit: 1, baseDelayMs: 1 } }),
    )
    expect(lines.length).toBeGreaterThan(0)
    expect(lines.join('')).not.toContain('s3cr3t')
    server.fileFaults.clear().status(403)
    const refused = await rejection(() => collect(signed, quick))
    for (const error of [failed, refused]) {
      expect(error).toBeInstanceOf(LinkkitError)
      const text = JSON.stringify(chain(error), (_key, value) =>
        value instanceof Error ? { ...value } : value,
      )
      expect(text).not.toContain('s3cr3t')
      expect(text).not.toContain('Signature')
      expect((error as Error).message).toContain('?[redacted]')
    }
  })
})

describe('downloadFirmware: abort', () => {
  it('rejects with ERR_ABORTED promptly when aborted mid-stream', async () => {
    const { server, source } = await served(4 * MiB, 41)
    await using _ = server
    server.fileFaults.throttle(512 * 1024)
    const controller = new AbortController()
    let abortedAt = 0
    const error = await rejection(() =>
      collect(source, {
        ...quick,
        signal: controller.signal,
        onProgress: (held) => {
          if (held >= 100_000 && abortedAt === 0) {
            abortedAt = Date.now()
            setTimeout(() => controller.abort(), 50)
          }
        },
      }),
    )
    expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
    expect(Date.now() - abortedAt).toBeLessThan(500)
    expect(server.fileStats().requests).toBe(1)
  })

  it('rejects with ERR_ABORTED during a retry backoff', async () => {
    const { server, source } = await served(1000, 42)
    await using _ = server
    server.fileFaults.status(503, Number.POSITIVE_INFINITY)
    const started = Date.now()
    const error = await rejection(() =>
      collect(source, {
        ...quick,
        signal: AbortSignal.timeout(150),
        retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 },
      }),
    )
    expect(isLinkkitError(error, 'ERR_ABORTED')).toBe(true)
    expect(Date.now() - started).toBeLessThan(1000)
  })
})

function chain(error: unknown): unknown[] {
  const out: unknown[] = []
  for (let e = error; e instanceof Error; e = e.cause) out.push({ ...e, message: e.message, stack: e.stack })
  return out
}
